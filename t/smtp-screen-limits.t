#!/usr/bin/perl
# smtp-screen's limits: -C n connections at once per address (the
# n+1th gets 421 4.7.0, a freed one lets the next in), on ::1 too, and
# per IPv6 /64 (clients named by a balancer's PROXY header: ::1 is the
# only IPv6 loopback address), -N 128 per address; -L n/secs new
# connections per address; -S the global cap; RELAYCLIENT from the rules
# exempts. Then 5,000 idle clients held during the wait while a clean
# client still delivers through rcptchecks and exim.
use strict;
use warnings;

# 5,000 idle clients want as many descriptors here: raise the soft limit
# to the hard one (a shell's ulimit) and run again, once
BEGIN {
  my $soft = `sh -c 'ulimit -n'`;
  chomp $soft;
  if ($soft ne 'unlimited' && $soft < 5200 && !$ENV{MX_NOFILE_RAISED}) {
    $ENV{MX_NOFILE_RAISED} = 1;
    exec 'sh', '-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', $^X, $0, @ARGV;
  }
}
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::IP;
use IO::Select;
use lib 't/lib';
use MXTest;
use MXRun;
use MXScreen;

my $top = top();
my $ss = "$top/smtp-screen/smtp-screen";
plan skip_all => "$ss not built" unless -x $ss;

# a connection from $src (or through the balancer, naming $client); its first line
sub first_line {
  my ($s, $src, $client) = @_;
  my $c = smtp_connect($s->ip, $s->port, $src eq '::1' ? () : (local_ip => $src));
  $c->send("PROXY TCP6 $client ::1 4000 25\r\n") if $client;
  return ($c, $c->read_line(5) // '(nothing)');
}
my $CONN = qr/^421 4\.7\.0 Too many connections from your address or network at once, try again later\r\n\z/;

# --- -C: connections at once ---------------------------------------------
{
  my ($a, $b) = map { loopback_ip() } 1 .. 2;
  my $s = start_screen(opts => ['-w', '5', '-C', '2'], argv => ['/bin/true']);
  my ($c1, $l1) = first_line($s, $a);
  my ($c2, $l2) = first_line($s, $a);
  is("$l1$l2", "220-smtp-screen.local\r\n" x 2, '-C 2: two connections from one address are held');
  my ($c3, $l3) = first_line($s, $a);
  like($l3, $CONN, '-C 2: the third gets 421 4.7.0');
  ok($c3->is_closed(5), '-C 2: and is closed');
  logged($s, $a, qr/ waited=\d+\.\d{3} result=limit limit=conn$/m, '-C 2: the refusal logged');
  my (undef, $lb) = first_line($s, $b);
  is($lb, "220-smtp-screen.local\r\n", '-C 2: another address is not limited');
  $c1->close;
  wait_until(5, sub { lines_for($s, $a) =~ /result=hangup/ }, 'the first one gone');
  my (undef, $l4) = first_line($s, $a);
  is($l4, "220-smtp-screen.local\r\n", '-C 2: once one is gone, the next is let in');
  $s->stop;

  my $s6 = start_screen(ip => '::1', opts => ['-w', '5', '-C', '1'], argv => ['/bin/true']);
  my ($d1, $m1) = first_line($s6, '::1');
  my (undef, $m2) = first_line($s6, '::1');
  is($m1, "220-smtp-screen.local\r\n", '::1, -C 1: the first is held');
  like($m2, $CONN, '::1, -C 1: the second gets 421');
  $s6->stop;
}


# --- a full table of groups never lets -C go: the place of a group with
# no connection is taken (-S 20 -c 1: a table of 42 groups, filled by 49
# addresses that came and went)
{
  my $s = start_screen(opts => ['-w', '5', '-S', '20', '-c', '1', '-C', '1', '-L', '100/600'], argv => ['/bin/true']);
  for my $n (1 .. 49) {
    my $c = smtp_connect($s->ip, $s->port, local_ip => "127.0.1.$n");
    $c->read_line(5);
    $c->close;
  }
  wait_until(10, sub { () = $s->log_text =~ / ip 127\.0\.1\.\d+ .*result=hangup/g; 0 + (() = $s->log_text =~ / ip 127\.0\.1\.\d+ .*result=hangup/g) >= 49 }, 'the 49 gone');
  my $a = loopback_ip();
  my $c1 = smtp_connect($s->ip, $s->port, local_ip => $a);
  is($c1->read_line(5), "220-smtp-screen.local\r\n", 'a table filled by 49 addresses: a new one is held');
  my $c2 = smtp_connect($s->ip, $s->port, local_ip => $a);
  like($c2->read_line(5), $CONN, 'a table filled by 49 addresses: -C 1 still holds');
  unlike(lines_for($s, $a), qr/limits=untracked/, 'and nothing was let in untracked');
  $s->stop;
}
# --- IPv6 grouped by /64 (default) and by -N ----------------------------------
{
  my $bal = loopback_ip();
  for my $bits (undef, 128) {
    my $s = start_screen(opts => ['-w', '5', '-C', '2', '-P', $bal, defined $bits ? ('-N', $bits) : ()], argv => ['/bin/true']);
    my $name = defined $bits ? "-N $bits" : '/64';
    my @held = map { [first_line($s, $bal, $_)] } '2001:db8:1:2::5', '2001:db8:1:2:ffff::6';
    is(join('', map { $_->[1] } @held), "220-smtp-screen.local\r\n" x 2, "$name: two clients of 2001:db8:1:2::/64 held");
    my (undef, $third) = first_line($s, $bal, '2001:db8:1:2::7');
    my (undef, $other) = first_line($s, $bal, '2001:db8:1:3::1');
    if (defined $bits) { is($third, "220-smtp-screen.local\r\n", "$name: a third address of that /64 is its own") }
    else {
      like($third, $CONN, "$name: a third address of that /64 gets 421");
      logged($s, '2001:db8:1:2::7', qr/ balancer=\Q$bal\E waited=\d+\.\d{3} result=limit limit=conn$/m, "$name: logged");
    }
    is($other, "220-smtp-screen.local\r\n", "$name: another /64 is not limited");
    $s->stop;
  }
}

# --- -L: a rate; -S: the global cap; RELAYCLIENT exempts ----------------------
{
  my ($a, $b, $relay) = map { loopback_ip() } 1 .. 3;
  my $rules = make_cdb(rules => "$relay:allow,RELAYCLIENT=\"\"\n:allow\n");
  my $s = start_screen(opts => ['-w', '0.1', '-L', '3/60', '-C', '2', '-x', $rules],
    argv => ['/bin/sh', '-c', 'echo "child $TCPREMOTEIP"; sleep 1']);
  my @got;
  for (1 .. 3) {
    my ($c, $l) = first_line($s, $a);
    push @got, $l;
    $c->is_closed(5);   # the child ends it, freeing the -C slot
  }
  is(join('', @got), "220-smtp-screen.local\r\n" x 3, '-L 3/60: three connections in the window');
  my (undef, $fourth) = first_line($s, $a);
  like($fourth, qr/^421 4\.7\.0 Too many new connections from your address or network, try again later\r\n\z/, '-L 3/60: the fourth gets 421');
  logged($s, $a, qr/ result=limit limit=rate$/m, '-L: logged');
  is((first_line($s, $b))[1], "220-smtp-screen.local\r\n", '-L: another address is not limited');
  my ($r1, $rl1) = first_line($s, $relay);
  my ($r2, $rl2) = first_line($s, $relay);
  my ($r3, $rl3) = first_line($s, $relay);
  my ($r4, $rl4) = first_line($s, $relay);
  is("$rl1$rl2$rl3$rl4", "child $relay\n" x 4, 'RELAYCLIENT from the rules: four at once, no -C, no -L, no wait');
  logged($s, $relay, qr/ rules=relayclient waited=0\.\d{3} result=pass child=\d+$/m, 'RELAYCLIENT: logged');
  $s->stop;

  my $g = start_screen(opts => ['-w', '5', '-S', '3'], argv => ['/bin/true']);
  my @c = map { [first_line($g, loopback_ip())] } 1 .. 3;
  is(join('', map { $_->[1] } @c), "220-smtp-screen.local\r\n" x 3, '-S 3: three clients held');
  my $over = loopback_ip();
  like((first_line($g, $over))[1], qr/^421 4\.7\.0 Too many clients at once, try again later\r\n\z/, '-S 3: the fourth gets 421');
  logged($g, $over, qr/ result=limit limit=global$/m, '-S: logged');
  $g->stop;
}

# --- -c: children at once; a client that passed waits for one ------------------
{
  my ($a, $b) = map { loopback_ip() } 1 .. 2;
  my $s = start_screen(opts => ['-v', '-w', '0', '-c', '1'], argv => ['/bin/sh', '-c', 'sleep 1; echo "child of $TCPREMOTEIP"']);
  my $t0 = time;
  my $ca = smtp_connect($s->ip, $s->port, local_ip => $a, timeout => 10);
  wait_until(5, sub { lines_for($s, $a) =~ /result=pass/ }, 'the first handed off');
  my $cb = smtp_connect($s->ip, $s->port, local_ip => $b, timeout => 10);
  like(($ca->read_all(5))[0], qr/^child of \Q$a\E$/, '-c 1: the first child');
  like(($cb->read_all(5))[0], qr/^child of \Q$b\E$/, '-c 1: the second, once the first ended');
  cmp_ok(time - $t0, '>=', 2, '-c 1: one after the other');
  logged($s, $a, qr/ child=\d+ status=0 result=end$/m, '-v: the end of a child logged');
  $s->stop;
}

# --- 5,000 idle clients during the wait; a clean client still passes -------------
{
  my $N = 5000;
  # the idle clients must leave before their waits end (or 5,000 children
  # start): they leave as soon as the clean client is seen among them, so
  # the margin is W less the time to connect and tease them, seconds on a
  # loaded machine; W is also what the clean client waits, so the runtime
  my $W = 20;
  chomp(my $nofile = `sh -c 'ulimit -n'`);
  SKIP: {
  skip "$N idle clients need more descriptors than the hard limit allows ($nofile)", 6 if $nofile ne 'unlimited' && $nofile < $N + 200;
  my ($idle, $clean) = map { loopback_ip() } 1 .. 2;
  my $mta = exim_child();
  my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n");
  my $s = start_screen(opts => ['-w', $W, '-l', 'mx.example.org'],
    argv => ["$top/rcptchecks/rcptchecks", '-c', $cdb, '-d', '0', '-t', '30', @{ $mta->argv }]);
  my $t0 = time;
  my @socks;
  for (1 .. $N) {
    my $c = IO::Socket::IP->new(PeerHost => $s->ip, PeerPort => $s->port, LocalHost => $idle, Timeout => 5) or last;
    push @socks, $c;
  }
  is(scalar @socks, $N, "$N idle clients connected");
  my $sel = IO::Select->new(@socks);
  my $teased = 0;
  my $deadline = time + 10;
  while ($teased < @socks && time < $deadline) {
    for my $c ($sel->can_read(1)) { sysread($c, my $b, 100); $teased++; $sel->remove($c) }
  }
  is($teased, $N, "every idle client got the teaser");
  my $t1 = time;
  my $swaks = start_cmd(argv => ['/usr/bin/swaks', '--server', $s->ip, '--port', $s->port, '--local-interface', $clean,
    '--ehlo', 'client.test', '--from', 'sender@other.test', '--to', 'alice@example.org']);
  # the event the idle clients wait for: smtp-screen has accepted the
  # clean client's connection (in /proc/net/tcp, the server's end of it
  # has an inode once accept() made it a descriptor: 0 while it is in
  # the listen queue)
  my $hex = sub { sprintf '%02X%02X%02X%02X', reverse split /\./, $_[0] };
  my $srv = sprintf '%s:%04X', $hex->($s->ip), $s->port;
  my $from = $hex->($clean);
  my $accepted = sub {
    open my $fh, '<', '/proc/net/tcp' or return 0;
    while (<$fh>) {
      my @f = split;
      return 1 if @f > 9 && $f[1] eq $srv && $f[2] =~ /^\Q$from\E:/ && $f[9] ne '0';
    }
    return 0;
  };
  wait_until(30, $accepted, 'the clean client accepted');
  my $fds = () = glob "/proc/" . $s->pid . "/fd/*";
  cmp_ok($fds, '>', $N, "smtp-screen holds them all and the clean client ($fds descriptors), one process");
  # the idle clients leave now, long before their waits end; the clean
  # one waits on
  $_->close for @socks;
  note sprintf 'the idle clients left %.1f s after the first connected (their wait: %d s)', time - $t0, $W;
  my ($rc, $out) = $swaks->finish($W + 30);
  is($rc, 0, "a clean client delivers, having waited among them") or diag $out;
  # W + 15: room for a loaded machine; a clean client stuck behind the
  # idle ones would wait for its timeouts, or never get through
  my $took = time - $t1;
  cmp_ok($took, q{>=}, $W - 0.1, "the clean client waited its -w $W (lower bounds hold on any machine)");
  cmp_ok($took, q{<}, $W + 15, q{within its wait and a little more});
  note sprintf 'connecting %d clients took %.1f s; the clean client %.1f s', $N, $t1 - $t0, time - $t1;
  $mta->wait_messages(1);
  wait_until(10, sub { (() = lines_for($s, $idle) =~ /result=hangup reason=closed$/mg) == $N }, "$N hang-ups logged");
  unlike(lines_for($s, $idle), qr/result=pass/, 'no idle client was handed off');
  $s->stop;
  }
}

done_testing();

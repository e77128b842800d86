#!/usr/bin/perl
# proxy-env behind the real HAProxy (send-proxy and send-proxy-v2), in
# front of relaydb-check and rblenv: each sees the client HAProxy saw,
# not HAProxy; HAProxy to a proxy-env on ::1 named by an IPv6 prefix.
# Clients around the balancer with forged v1 and v2 headers naming the
# POP user: refused before a byte is read, the chain never runs, no
# RELAYCLIENT. No -b, or a bad one: proxy-env does not start. Then
# scripted senders from named balancers straight to proxy-env: a header
# in pieces, with TLVs, overlong, missing, garbage, late, LOCAL, and the
# client's first bytes right behind the header (never taken).
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;
use MXService;

my $top = top();
my $pe = "$top/proxy-env/proxy-env";
plan skip_all => "$pe not built" unless -x $pe;
plan skip_all => 'haproxy not installed' unless -x '/usr/sbin/haproxy';

my $store = tmpdir();
my ($listed, $roamer, $plain) = map { loopback_ip() } 1 .. 3;
my $rev = join '.', reverse split /\./, $listed;
my $dns = start_tinydns(data => ".bl.mxtest.test::\n+$rev.bl.mxtest.test:127.0.0.2\n'$rev.bl.mxtest.test:listed by mxtest\n");
{
  my ($rc, undef, $err) = run_cmd(argv => ["$top/relaydb/relaydb", '-d', $store, 'add', $roamer]);
  is($rc, 0, "the roamer $roamer is in the relay store") or diag $err;
}
# the chain's last link notes every client it sees, with its RELAYCLIENT,
# in $ran: a connection that never reached it left no line
my $ran = tmpdir() . '/ran';
my @chain = ("$top/relaydb/relaydb-check", '-d', $store, "$top/rblenv/rblenv", '-t', '2', '-r', 'bl.mxtest.test',
  '/bin/sh', '-c', 'echo "$TCPREMOTEIP relay=${RELAYCLIENT-unset}" >> "$0"; exec "$@"', $ran, "$top/t/bin/show-env");
sub ran { slurp($ran) // '' }

# The balancers: HAProxy (it listens on and connects from $hip), and a
# pool of addresses for the scripted senders below, each used once so
# that its log line is its own; named in two -b options.
my $hip = loopback_ip();
my @pool = map { loopback_ip() } 1 .. 16;
my @trust = ('-b', join(',', $hip, @pool[0 .. 7]), '-b', join(',', @pool[8 .. $#pool]));
my %srv;
for my $v (1, 2) {
  $srv{$v} = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $dns->ip, RELAYCLIENT => undef, RBLSMTPD => undef },
    argv => [$pe, @trust, '-t', '2', "-$v", @chain]);
}
# On ::1, the balancer named by an IPv6 prefix (and a network it is not in)
my $srv6 = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
  argv => [$pe, '-b', '2001:db8::/32', '-b', '::/120', '-t', '2', "$top/t/bin/show-env"]);

# HAProxy: a frontend for each version, on loopback, and one to ::1
my %hport = (1 => free_port($hip), 2 => free_port($hip), 6 => free_port($hip));
my $hdir = tmpdir();
open my $cfg, '>', "$hdir/haproxy.cfg" or die;
print {$cfg} <<"CFG";
global
  maxconn 200
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend v1
  bind $hip:$hport{1}
  default_backend v1
backend v1
  server chain1 @{[ $srv{1}->ip ]}:@{[ $srv{1}->port ]} send-proxy source $hip
frontend v2
  bind $hip:$hport{2}
  default_backend v2
backend v2
  server chain2 @{[ $srv{2}->ip ]}:@{[ $srv{2}->port ]} send-proxy-v2 source $hip
frontend v6
  bind $hip:$hport{6}
  default_backend v6
backend v6
  server chain6 [::1]:@{[ $srv6->port ]} send-proxy-v2
CFG
close $cfg;
my $haproxy = start_cmd(argv => ['/usr/sbin/haproxy', '-db', '-f', "$hdir/haproxy.cfg"], timeout => 300);
ok(wait_until(10, sub { IO::Socket::IP->new(PeerHost => $hip, PeerPort => $hport{2}, Timeout => 1) }, 'haproxy listens'), 'haproxy is up');

# what the chain behind says to a client from $from
sub through {
  my ($port, $from) = @_;
  my $c = smtp_connect($hip, $port, local_ip => $from, timeout => 10);
  my ($all) = $c->read_all(10);
  return $all // '';
}

for my $v (1, 2) {
  subtest "HAProxy send-proxy" . ($v == 2 ? '-v2' : '') . ": the chain judges the real client" => sub {
    like(through($hport{$v}, $listed), qr/^ip=\Q$listed\E port=\d+ local=\Q$hip\E:$hport{$v} proto=TCP host=unset relay=unset rbl=listed by mxtest$/m,
      "$listed: rblenv finds it listed");
    like(through($hport{$v}, $roamer), qr/^ip=\Q$roamer\E .* relay= rbl=unset$/m, "$roamer: relaydb-check trusts it");
    like(through($hport{$v}, $plain), qr/^ip=\Q$plain\E .* relay=unset rbl=unset$/m, "$plain: neither");
    like($srv{$v}->log_text, qr/^proxy-env: info: pid \d+ ip \Q$hip\E client=\Q$listed\E port=\d+ version=$v result=proxy$/m,
      'proxy-env logs the balancer and the client');
    like(ran(), qr/^\Q$roamer\E relay=$/m, 'the chain ran for the roamer, with RELAYCLIENT');
    unlike(ran(), qr/^\Q$hip\E /m, 'and never for HAProxy itself');
  };
}

subtest 'HAProxy to a proxy-env on ::1, named by a prefix (-b 2001:db8::/32 -b ::/120)' => sub {
  my $p6 = $hport{6};
  like(through($p6, $plain), qr/^ip=\Q$plain\E port=\d+ local=\Q$hip\E:$p6 proto=TCP /m, 'the chain judges the real client');
  like($srv6->log_text, qr/^proxy-env: info: pid \d+ ip ::1 client=\Q$plain\E port=\d+ version=2 result=proxy$/m, 'the balancer is ::1');
};

# A client around the balancer: straight to proxy-env's port from an
# address no -b names, with a header naming the POP user.
my $forged_v1 = "PROXY TCP4 $roamer 198.51.100.1 56324 25\r\n";
my $forged_v2 = "\r\n\r\n\0\r\nQUIT\n\x21\x11\0\x0c" . pack('C4C4nn', (split /\./, $roamer), 198, 51, 100, 1, 56324, 25);
subtest 'a forged header from a peer not named with -b: refused before a byte is read, nothing runs, no relay' => sub {
  for my $case ([1, 'v1', $forged_v1], [2, 'v2', $forged_v2], [1, 'v1, then SMTP', $forged_v1 . "EHLO x\r\nMAIL FROM:<a\@b.example>\r\n"]) {
    my ($v, $name, $bytes) = @$case;
    my $rogue = loopback_ip();
    my $before = ran();
    my $c = smtp_connect($srv{$v}->ip, $srv{$v}->port, local_ip => $rogue, timeout => 10);
    $c->send($bytes);
    my ($out, $eof) = $c->read_all(8);
    is($out, '', "$name from $rogue: not a byte back");
    ok($eof, "$name: the connection is closed");
    ok(wait_until(5, sub { $srv{$v}->log_text =~ /^proxy-env: warning: pid \d+ ip \Q$rogue\E result=refused reason=untrusted peer$/m },
      "$name: the refusal"), "$name: logged as an untrusted peer") or diag $srv{$v}->log_text;
    # the refusal is logged by the process that would have become the chain
    is(ran(), $before, "$name: the chain never ran (no RELAYCLIENT for $roamer)");
  }
  # refused before reading: silence is closed at once, not after -t; an
  # instance of its own with -t 10, so that a wait for the header would
  # take 10 s, far above the bound even on a loaded machine
  my $long = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLSMTPD => undef },
    argv => [$pe, @trust, '-t', '10', '-2', "$top/t/bin/show-env"]);
  my $rogue = loopback_ip();
  my $c = smtp_connect($long->ip, $long->port, local_ip => $rogue, timeout => 15);
  my $t0 = time;
  ok($c->is_closed(12), 'a silent peer not named: closed');
  cmp_ok(time - $t0, '<', 6, sprintf 'at once, without waiting for a header (-t 10; %.2f s)', time - $t0);
  ok(wait_until(5, sub { $long->log_text =~ /^proxy-env: warning: pid \d+ ip \Q$rogue\E result=refused reason=untrusted peer$/m },
    'the silent peer\'s refusal'), 'a silent peer not named: logged as an untrusted peer');
  $long->stop;
  # the same forged bytes from a named balancer do make the roamer a relay
  # client: the refusal is what stands between them and relaying
  my $bal = shift @pool;
  $c = smtp_connect($srv{1}->ip, $srv{1}->port, local_ip => $bal, timeout => 10);
  $c->send($forged_v1);
  my ($out) = $c->read_all(10);
  like($out, qr/^ip=\Q$roamer\E .* relay= /m, 'the same v1 header from a named balancer: RELAYCLIENT (the control)');
  # IPv6: ::1 is outside the prefix of a proxy-env that names 2001:db8::/32 only
  my $only = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'], argv => [$pe, '-b', "2001:db8::/32,$hip", "$top/t/bin/show-env"]);
  $c = smtp_connect('::1', $only->port, timeout => 10);
  $c->send($forged_v2);
  ($out) = $c->read_all(8);
  is($out, '', 'a v2 header from ::1 to a proxy-env naming 2001:db8::/32: refused');
  ok(wait_until(5, sub { $only->log_text =~ /^proxy-env: warning: pid \d+ ip ::1 result=refused reason=untrusted peer$/m }, 'the ::1 refusal'),
    'logged') or diag $only->log_text;
  $only->stop;
};

subtest 'no -b, or a bad one: proxy-env does not start' => sub {
  my $mark = tmpdir() . '/started';
  my @child = ('/bin/sh', '-c', ': > "$0"', $mark);
  for my $case ([[], 'no -b'], [['-b', ''], 'an empty list'], [['-b', "$hip,"], 'a trailing comma'],
    [['-b', "$hip/33"], 'a prefix too long'], [['-b', '127.0.0.1/8'], 'bits past the prefix'],
    [['-b', 'localhost'], 'a name'], [['-b', "$hip, $pool[0]"], 'a blank'], [['-b', $hip, '-b', '::1/129'], 'a bad second -b']) {
    my ($opts, $name) = @$case;
    my ($rc, $out, $err) = run_cmd(argv => [$pe, @$opts, @child], env => { TCPREMOTEIP => $hip },
      stdin => "PROXY TCP4 $roamer 198.51.100.1 56324 25\r\n", timeout => 10);
    is($rc, 100, "$name: exit 100");
    like($err, qr/^proxy-env: usage: proxy-env -b /m, "$name: the usage line");
    ok(!-e $mark, "$name: the child never ran");
  }
  my ($rc) = run_cmd(argv => [$pe, '-b', "::ffff:$hip", @child], env => { TCPREMOTEIP => $hip },
    stdin => "PROXY TCP4 $roamer 198.51.100.1 56324 25\r\n", timeout => 10);
  ok($rc == 0 && -e $mark, '-b ::ffff:a.b.c.d names a.b.c.d (the control: the child runs)');
};

# scripted senders, straight to proxy-env (child: the chain above)
# from a named balancer (the pool)
sub direct {
  my ($v, @pieces) = @_;
  my $ip = shift @pool // die 'the pool of balancer addresses is used up';
  my $c = smtp_connect($srv{$v}->ip, $srv{$v}->port, local_ip => $ip, timeout => 10);
  # a pause between pieces is the case (a header split across reads), not a wait
  for (@pieces) { if (ref) { sleep $$_ } else { $c->send($_) } }
  my $t0 = time;
  my ($all) = $c->read_all(8);
  return ($all // '', time - $t0, $ip);
}
my $sig = "\r\n\r\n\0\r\nQUIT\n";
my $v2 = sub { my ($cmd, $fam, $addr, $tlv) = @_; my $body = $addr . ($tlv // ''); $sig . chr(0x20 | $cmd) . chr($fam) . pack('n', length $body) . $body };
my $a4 = pack('C4C4nn', 192, 0, 2, 7, 198, 51, 100, 1, 56324, 25);

subtest 'headers in pieces, with TLVs; nothing behind them taken' => sub {
  my ($out) = direct(1, 'PROXY TCP4 19', \0.2, '2.0.2.7 198.51.100.1 ', \0.2, "56324 25\r\n");
  like($out, qr/^ip=192\.0\.2\.7 port=56324 local=198\.51\.100\.1:25 proto=TCP /m, 'v1 in three writes');
  ($out) = direct(2, substr($v2->(1, 0x11, $a4), 0, 10), \0.2, substr($v2->(1, 0x11, $a4), 10));
  like($out, qr/^ip=192\.0\.2\.7 port=56324 /m, 'v2 in two writes');
  ($out) = direct(2, $v2->(1, 0x11, $a4, "\x04\x00\x05hello" . ("\x03\x00\x04abcd" x 20)));
  like($out, qr/^ip=192\.0\.2\.7 /m, 'v2 with TLVs');
  my $six = pack('H32H32nn', '20010db8000000000000000000000007', '20010db8000000000000000000000001', 1234, 25);
  ($out) = direct(2, $v2->(1, 0x21, $six));
  like($out, qr/^ip=2001:db8::7 port=1234 local=2001:db8::1:25 proto=TCP6 /m, 'v2 TCP6');

  # the client's first bytes right behind the header stay for the child
  my $echo = start_tcpserver(opts => ['-R', '-H', '-l0'], argv => [$pe, '-b', $hip, '-1', '/bin/cat']);
  my $c = smtp_connect($echo->ip, $echo->port, local_ip => $hip, timeout => 10);
  $c->send("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\nEHLO early\r\n");
  is($c->read_line(10), "EHLO early\r\n", 'bytes sent behind the header reach the child whole (cat echoes them)');
  $echo->stop;
};

subtest 'no header, a bad one, a late one: closed, logged, the chain never runs' => sub {
  my @cases = (
    ['no header (a client straight to the guard)', [1, "EHLO x\r\n"], qr/no PROXY header/],
    ['garbage', [2, "GET / HTTP/1.0\r\n\r\n"], qr/no PROXY header/],
    ['an overlong v1 line', [1, 'PROXY TCP4 ' . ('1' x 200) . "\r\n"], qr/overlong/],
    ['a malformed v1 line', [1, "PROXY TCP4 192.0.2.7 198.51.100.1 056324 25\r\n"], qr/malformed/],
    ['a v1 line to a v2-only proxy-env', [2, "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"], qr/no PROXY header/],
    ['a v2 header too long', [2, $sig . "\x21\x11" . pack('n', 4000)], qr/no PROXY header/],
    ['silence', [1], qr/in time/],
    ['a header cut short, then silence', [1, 'PROXY TCP4 192.0'], qr/in time/],
  );
  for my $case (@cases) {
    my ($name, $args, $why) = @$case;
    my ($out, $took, $ip) = direct(@$args);
    unlike($out, qr/ip=/, "$name: the chain never runs");
    cmp_ok($took, '<', 6, "$name: closed within the deadline");
    my $v = $args->[0];
    ok(wait_until(5, sub { $srv{$v}->log_text =~ /^proxy-env: warning: pid \d+ ip \Q$ip\E result=refused reason=.*$why/m }, "$name: logged"),
      "$name: logged") or diag $srv{$v}->log_text;
  }
  my ($out, undef, $ip) = direct(2, $v2->(0, 0, ''));
  is($out, '', 'v2 LOCAL (a health check): closed quietly');
  ok(wait_until(5, sub { $srv{2}->log_text =~ /^proxy-env: info: pid \d+ ip \Q$ip\E version=2 result=local$/m }, 'the LOCAL line'), 'logged as local');
};

subtest 'examples/service/smtpd-balanced/run behind HAProxy, for real' => sub {
  my $dir = tmpdir();
  my $gip = loopback_ip();
  my $gport = free_port($gip);
  my $mta = exim_child();
  make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/r.cdb");
  # the example's rules, with HAProxy's address for the balancers'
  my $rules = slurp("$top/examples/service/smtpd-balanced/tcp.smtp") // '';
  like($rules, qr/^:deny$/m, 'the example rules deny everybody else');
  unlike($rules, qr/^[^#].*=/m, 'and set no variable');
  ok($rules =~ s/^[0-9.]+:allow$/$hip:allow/mg, 'they allow the balancers by address');
  ok(eval { make_cdb(rules => $rules, "$dir/rules.cdb") }, 'they compile') or diag $@;
  my $built = join ':', map { "$top/$_" } qw(proxy-env relaydb rblenv smtp-delay smtp-tls rcptchecks);
  install_script('service/smtpd-balanced/run', "$dir/run",
    PATH => "$built:/usr/sbin:/usr/bin:/sbin:/bin", IP => $gip, PORT => $gport, LOCALNAME => 'mx.mxtest.test',
    BALANCERS => $hip, RULES => "$dir/rules.cdb",
    SMTPUID => $<, SMTPGID => (split ' ', $()[0], PROXYVERSION => '-a', RELAYSTORE => $store,
    BLOCKLISTS => 'bl.mxtest.test', ALLOWLISTS => '', DNSCACHEIP => $dns->ip, TLSCERT => '',
    RECIPIENTS => "$dir/r.cdb", QMAILCONTROL => "$dir/control", SMTPD => join(' ', @{ $mta->argv }));
  my $job = start_cmd(argv => ["$dir/run"], env => { SMTPDELAY => '0', RELAYCLIENT => undef }, timeout => 60);
  ok(wait_until(10, sub { IO::Socket::IP->new(PeerHost => $gip, PeerPort => $gport, LocalHost => $hip) }, 'the run script listens'), 'it listens');
  my $bcfg = "$hdir/balanced.cfg";
  my $bport = free_port($hip);
  open my $fh, '>', $bcfg or die;
  print {$fh} "global\n  maxconn 50\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n"
    . "frontend mx\n  bind $hip:$bport\n  default_backend mx\nbackend mx\n  server mx1 $gip:$gport send-proxy-v2 source $hip\n";
  close $fh;
  my $lb = start_cmd(argv => ['/usr/sbin/haproxy', '-db', '-f', $bcfg], timeout => 120);
  ok(wait_until(10, sub { IO::Socket::IP->new(PeerHost => $hip, PeerPort => $bport, Timeout => 1) }, 'haproxy listens'), 'haproxy is up');

  my $c = smtp_connect($hip, $bport, local_ip => $listed, timeout => 20);
  $c->expect(qr/^220 rblsmtpd/, 15, "$listed, listed: rblsmtpd answers");
  $c->cmd('HELO client.example', 10);
  $c->cmd('MAIL FROM:<s@sender.example>', 10);
  $c->sendline('RCPT TO:<alice@example.org>');
  $c->expect(qr/^(?:451|553|554)[ -].*listed by mxtest/, 10, "... and refuses it at RCPT, with rblenv's text");
  $c->close;
  $c = smtp_connect($hip, $bport, local_ip => $plain, timeout => 20);
  $c->expect(qr/^220 /, 15, "$plain is greeted");
  $c->sendline('HELO client.example'); $c->expect(qr/^250 /);
  $c->sendline('MAIL FROM:<s@sender.example>'); $c->expect(qr/^250 /);
  $c->sendline('RCPT TO:<nobody@example.org>'); $c->expect(qr/^550 /, 10, 'rcptchecks refuses an unknown recipient');
  $c->sendline('QUIT'); $c->expect(qr/^221 /);
  # around the balancer, with a forged header: tcpserver's rules close it
  my $rogue = loopback_ip();
  $c = smtp_connect($gip, $gport, local_ip => $rogue, timeout => 10);
  $c->send($forged_v2);
  my ($got) = $c->read_all(8);
  is($got, '', "a client around the balancer ($rogue, a forged header): closed, not a byte back");
  my ($out, $errs) = ('', '');
  kill 'TERM', $lb->pid; $lb->finish(15);
  kill 'TERM', -$job->pid;
  (undef, $out, $errs) = $job->finish(15);
  like("$out$errs", qr/^rcptchecks: info: pid \d+ ip \Q$plain\E /m, "rcptchecks logs the client, $plain, not the balancer");
  like("$out$errs", qr/^proxy-env: info: pid \d+ ip \Q$hip\E client=\Q$listed\E /m, 'proxy-env logs balancer and client');
  like("$out$errs", qr/^tcpserver: deny \d+ .*\Q$rogue\E/m, "tcpserver's rules deny $rogue");
  unlike("$out$errs", qr/\Q$rogue\E.*result=|ip \Q$roamer\E /, 'no link of the chain ran for it, nor for the address it named');
};

kill 'TERM', $haproxy->pid;
$haproxy->finish(15);
done_testing;

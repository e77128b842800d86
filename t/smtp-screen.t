#!/usr/bin/perl
# smtp-screen in tcpserver's place, with real parts behind it: a clean
# client delivers through rcptchecks and exim4 -bs after the wait
# (IPv4 and ::1), and the teaser and exim's 220 make one greeting; an
# early talker gets smtp-delay's refusal and the chain never runs; with
# -e it is handed to the real rblsmtpd, whose 220 ends the greeting.
# The environment is exactly tcpserver's for the same tcprules CDB
# (env run under both, compared). Rules deny; SIGHUP reopens the rules
# while a client waits; a missing rules file. PROXY v1/v2 headers
# believed from a named balancer only (scripted, and the real HAProxy);
# IPv6 text as tcpserver writes it. Vanishing and RST clients. SIGTERM
# leaves handed-off children running.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use Socket qw(SOL_SOCKET SO_LINGER);
use IO::Socket::IP;
use lib 't/lib';
use MXTest;
use MXRun;
use MXScreen;

my $top = top();
my $ss = "$top/smtp-screen/smtp-screen";
plan skip_all => "$ss not built" unless -x $ss;

my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n");
my @rcpt = ("$top/rcptchecks/rcptchecks", '-c', $cdb, '-d', '0', '-u', '0.05', '-t', '30');
my @swaks = ('--ehlo', 'client.test', '--from', 'sender@other.test', '--to', 'alice@example.org');

# --- a clean client, through rcptchecks and exim; one greeting -------------
{
  my $mta = exim_child();
  my $s = start_screen(opts => ['-w', '1', '-l', 'mx.example.org'], argv => [@rcpt, @{ $mta->argv }]);
  my $s6 = start_screen(ip => '::1', opts => ['-w', '1', '-l', 'mx.example.org'], argv => [@rcpt, @{ $mta->argv }]);
  my $src = loopback_ip();
  my $t0 = time;
  my ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $src, @swaks]);
  is($rc, 0, 'clean client: swaks delivers') or diag $out;
  cmp_ok(time - $t0, '>=', 1, 'clean client: after the wait');
  my @greet = $out =~ /^<-  (220[ -].*)$/mg;
  is(scalar @greet, 2, 'clean client: two greeting lines') or diag $out;
  is($greet[0], '220-mx.example.org', 'the teaser first');
  like($greet[1] // '', qr/^220 mx\.example\.org ESMTP Exim /, "exim's own 220 line ends the greeting");
  $mta->wait_messages(1);
  logged($s, $src, qr/ pregreet=pass rdns=none,unanswered waited=1\.\d{3} result=pass child=\d+$/m, 'clean client: logged pass with its child');

  # ::1: the same, by hand: the greeting is one reply, EHLO is answered
  my $c = smtp_connect('::1', $s6->port, timeout => 10);
  my ($code, $text) = $c->read_reply(10);
  like($text, qr/\A220-mx\.example\.org\r\n220 mx\.example\.org ESMTP Exim [^\n]*\r\n\z/, '::1: teaser and exim 220, one reply');
  like($c->cmd('EHLO client.test'), qr/^250[ -]/, '::1: EHLO answered by exim (no second greeting in between)');
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, '::1: MAIL accepted');
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^550 5\.1\.1 /, '::1: rcptchecks ran behind it');
  $c->cmd('QUIT');
  logged($s6, '::1', qr/ result=pass child=\d+$/m, '::1: logged pass');
  $_->stop for $s, $s6;
}

# --- an early talker: smtp-delay's refusal; -e: rblsmtpd's ----------------
{
  my $mta = exim_child();
  my $s = start_screen(opts => ['-w', '2', '-l', 'mx.example.org'], argv => [@rcpt, @{ $mta->argv }]);
  my $early = loopback_ip();
  my $c = smtp_connect($s->ip, $s->port, local_ip => $early, timeout => 10);
  $c->send("EHLO early.test\r\n");
  my (undef, $text) = $c->read_reply(5);
  is($text, "220-mx.example.org\r\n220 mx.example.org\r\n", 'early talker: the teaser, then smtp-screen ends the greeting itself');
  like(($c->read_reply(5))[1], qr/^250 mx\.example\.org\r\n\z/, 'early talker: its early EHLO gets 250');
  like($c->cmd('MAIL FROM:<a@other.test>'), qr/^451 4\.7\.1 Talking before the greeting is not allowed \(RFC 5321 section 4\.3\.1\)\r\n\z/,
    "early talker: smtp-delay's 451 to MAIL");
  like($c->cmd('QUIT'), qr/^221 mx\.example\.org/, 'early talker: 221 to QUIT');
  ok($c->is_closed(5), 'early talker: closed');
  logged($s, $early, qr/ pregreet=fail rdns=none,unanswered waited=\d+\.\d{3} result=refused first=EHLO early\.test\?\?$/m, 'early talker: logged refused');
  is(grep(/^rcptchecks: .* ip \Q$early\E /, split /\n/, $s->log_text), 0, 'early talker: the chain never ran');
  $s->stop;

  my $r = start_screen(opts => ['-w', '2', '-e', '-l', 'mx.example.org'], argv => ['/usr/bin/rblsmtpd', @rcpt, @{ $mta->argv }]);
  $c = smtp_connect($r->ip, $r->port, local_ip => $early, timeout => 10);
  $c->send("HELO early.test\r\n");
  (undef, $text) = $c->read_reply(5);
  is($text, "220-mx.example.org\r\n220 rblsmtpd.local\r\n", "-e: rblsmtpd's 220 ends the greeting");
  like(($c->read_reply(5))[1], qr/^250 rblsmtpd\.local/, '-e: rblsmtpd answers the early HELO');
  like($c->cmd('MAIL FROM:<a@other.test>'), qr/^250 /, '-e: rblsmtpd takes MAIL');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^451 Talking before the greeting is not allowed \(RFC 5321 section 4\.3\.1\)\r\n\z/,
    '-e: rblsmtpd refuses RCPT with the RBLSMTPD text (451)');
  $c->cmd('QUIT');
  logged($r, $early, qr/ pregreet=fail rdns=none,unanswered waited=\d+\.\d{3} result=refused via=rblsmtpd child=\d+ first=HELO/m, '-e: logged as handed on');
  my $src = loopback_ip();
  my ($rc, $out) = swaks(server => $r, opts => ['--local-interface', $src, @swaks]);
  is($rc, 0, '-e: a clean client still delivers through rblsmtpd') or diag $out;
  is(scalar(() = $out =~ /^<-  220 /mg), 1, '-e: clean client: one final 220 line');
  $r->stop;
}

# --- the environment: tcpserver's, for the same rules -------------------------
{
  my ($plain, $relay, $pfx, $deny, $none) = map { loopback_ip() } 1 .. 5;
  my ($p3) = $pfx =~ /^(\d+\.\d+\.\d+\.)/;
  my $rules = make_cdb(rules => "$plain:allow,FOO=\"bar\",EMPTY=\"\",FOO=\"last\"\n$relay:allow,RELAYCLIENT=\"\",TCPLOCALHOST=\"ruled\"\n"
    . "$deny:deny\n::1:allow,SIX=\"6\"\n$p3:allow,PREFIX=\"3\"\n:allow,DEFAULT=\"yes\"\n");
  # ::1 is the only IPv6 client: a second CDB where it matches a prefix ("::")
  my $rules6 = make_cdb(rules => "::2:deny\n::1.:deny\n::1a:deny\n:::allow,SIXPFX=\"1\"\n:allow,DEFAULT=\"yes\"\n");
  my %env = (RELAYCLIENT => undef, DNSCACHEIP => '127.0.0.1', FOO => 'orig', TCPREMOTEHOST => 'stale.example', TCPREMOTEINFO => 'stale', TCP6REMOTEHOST => 'stale', RBLSMTPD => undef);
  for my $round ([loopback_ip(), $rules], ['::1', $rules], ['::1', $rules6]) {
    my ($ip, $cdbfile) = @$round;
    my @opts = ('-R', '-H', '-l', 'mx.example.org', '-x', $cdbfile);
    my $t = start_tcpserver(ip => $ip, opts => \@opts, env => \%env, argv => ['/usr/bin/env']);
    my $s = start_screen(ip => $ip, opts => [@opts, '-w', '0.2'], env => \%env, argv => ['/usr/bin/env']);
    for my $src ($ip eq '::1' ? ('::1') : ($plain, $relay, $pfx, $deny, $none)) {
      my %got;
      for my $srv ($t, $s) {
        my $c = smtp_connect($srv->ip, $srv->port, $src eq '::1' ? () : (local_ip => $src));
        my $me = $c->sock->sockport;
        my ($all) = $c->read_all(5);
        $all =~ s/\A220-mx\.example\.org\r\n// if $srv == $s;
        $all =~ s/^((?:TCP6?)(?:REMOTE|LOCAL)PORT)=(\d+)$/$1 eq 'TCPREMOTEPORT' || $1 eq 'TCP6REMOTEPORT' ? ($2 == $me ? "$1=ME" : "$1=$2") : "$1=SRV"/mge;
        # smtp-delay's two variables are smtp-screen's own (-H: class none)
        if ($srv == $s) {
          my $relayed = $src eq $relay;
          my $class = $all =~ s/^SMTPDELAY_CLASS=(.*)\n//m ? $1 : 'unset';
          my $result = $all =~ s/^SMTPDELAY_RESULT=(.*)\n//m ? $1 : 'unset';
          is("$class $result", $relayed ? 'unset unset' : 'none pass', "environment of $src: smtp-delay's class and result" . ($relayed ? ' unset (RELAYCLIENT)' : ''))
            unless $src eq $deny;
        }
        $got{$srv == $s ? 'screen' : 'tcpserver'} = join "\n", sort split /\n/, $all;
      }
      is($got{screen}, $got{tcpserver}, "environment of $src: as tcpserver's" . ($cdbfile eq $rules6 ? ' (an IPv6 prefix rule)' : ''));
    }
    $_->stop for $t, $s;
  }
}

# --- rules: deny; SIGHUP while a client waits ------------------------------
{
  my ($waiter, $later) = map { loopback_ip() } 1 .. 2;
  my $rules = make_cdb(rules => ":allow\n");
  my $s = start_screen(opts => ['-w', '2', '-x', $rules], argv => ["$top/t/bin/show-env"]);
  my $w = smtp_connect($s->ip, $s->port, local_ip => $waiter, timeout => 10);
  is($w->read_line(5), "220-smtp-screen.local\r\n", 'waiter: the teaser');
  my $c = smtp_connect($s->ip, $s->port, local_ip => $later);
  like(($c->read_all(5))[0], qr/^220-/, 'before the new rules: another client is let in');
  make_cdb(rules => "$later:deny\n:allow,NEW=\"1\"\n", $rules);
  kill 'HUP', $s->pid;
  wait_until(5, sub { $s->log_text =~ /result=reopened/ }, 'SIGHUP: the rules reopened');
  $c = smtp_connect($s->ip, $s->port, local_ip => $later);
  my ($all, $eof) = $c->read_all(5);
  is($all, '', 'denied by the new rules: closed without a word');
  ok($eof, 'denied: closed');
  logged($s, $later, qr/ rules=deny waited=\d+\.\d{3} result=deny$/m, 'denied: logged');
  like(($w->read_all(5))[0], qr/^ip=\Q$waiter\E /m, 'the waiter, there before SIGHUP, still handed off');
  $s->stop;
}

# --- a rules file that does not exist: closed, or (-X) no rules ----------------
{
  my $missing = tmpdir() . '/none.cdb';
  my $s = start_screen(opts => ['-w', '0', '-x', $missing], argv => ["$top/t/bin/show-env"]);
  my $src = loopback_ip();
  my $c = smtp_connect($s->ip, $s->port, local_ip => $src);
  is(($c->read_all(5))[0], '', 'no rules file: the client is closed without a word');
  like(lines_for($s, $src), qr/ result=error reason=rules-unreadable$/m, 'no rules file: logged');
  $s->stop;
  $s = start_screen(opts => ['-w', '0', '-X', '-x', $missing], argv => ["$top/t/bin/show-env"]);
  $c = smtp_connect($s->ip, $s->port, local_ip => $src);
  like(($c->read_all(5))[0], qr/^ip=\Q$src\E /, '-X: no rules file, no rules');
  $s->stop;
}

# --- a child that cannot be run: 421, logged -----------------------------------
{
  my $s = start_screen(opts => ['-w', '0.2'], argv => ['/nonexistent/chain']);
  my $src = loopback_ip();
  my $c = smtp_connect($s->ip, $s->port, local_ip => $src);
  is(($c->read_all(5))[0], "220-smtp-screen.local\r\n220 smtp-screen.local\r\n421 4.3.0 Temporary failure, try again later\r\n",
    'no child to run: the greeting ended with one code, then 421 4.3.0');
  like(lines_for($s, $src), qr/ pregreet=pass rdns=none,unanswered waited=\d+\.\d{3} result=error reason=spawn$/m, 'no child to run: logged');
  like($s->log_text, qr/^smtp-screen: warning: unable to spawn \/nonexistent\/chain: /m, 'no child to run: the reason in the log');
  $s->stop;
}

# --- PROXY headers from named balancers only ----------------------------------
{
  my ($bal, $other) = map { loopback_ip() } 1 .. 2;
  my $s = start_screen(opts => ['-w', '0.3', '-P', "$bal,192.0.2.0/24"], argv => ["$top/t/bin/show-env"]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => $bal);
  $c->send("PROXY TCP4 198.51.100.7 127.0.0.1 5555 25\r\n");
  my ($all) = $c->read_all(5);
  like($all, qr/\A220-smtp-screen\.local\r\nip=198\.51\.100\.7 port=5555 local=127\.0\.0\.1:25 proto=TCP /, 'v1 from the balancer: believed');
  logged($s, '198.51.100.7', qr/ port=5555 id=\d+ balancer=\Q$bal\E pregreet=pass .* result=pass/m, 'v1: logged with the balancer');
  my $v2 = "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', 0x21, 0x21, 36) . pack('a16a16nn', "\x20\x01\x0d\xb8" . ("\0" x 11) . "\x07", ("\0" x 15) . "\x01", 4444, 25);
  $c = smtp_connect($s->ip, $s->port, local_ip => $bal);
  $c->send($v2);
  ($all) = $c->read_all(5);
  like($all, qr/\A220-smtp-screen\.local\r\nip=2001:db8::7 port=4444 local=::1:25 proto=TCP6 /, 'v2 from the balancer: believed');
  # a LOCAL header (HAProxy's health checks) and v1's UNKNOWN: the
  # balancer's own connection, screened as the balancer
  $c = smtp_connect($s->ip, $s->port, local_ip => $bal);
  $c->send("\r\n\r\n\0\r\nQUIT\n" . pack('CCn', 0x20, 0x00, 0));
  ($all) = $c->read_all(5);
  like($all, qr/\A220-smtp-screen\.local\r\nip=\Q$bal\E port=\d+ local=/, 'v2 LOCAL from the balancer: taken, as the balancer');
  logged($s, $bal, qr/ proxy=local pregreet=pass .*result=pass/m, 'v2 LOCAL: logged proxy=local');
  $c = smtp_connect($s->ip, $s->port, local_ip => $bal);
  $c->send("PROXY UNKNOWN\r\n");
  ($all) = $c->read_all(5);
  like($all, qr/\A220-smtp-screen\.local\r\nip=\Q$bal\E port=\d+ local=/, 'v1 UNKNOWN from the balancer: taken, as the balancer');
  $c = smtp_connect($s->ip, $s->port, local_ip => $bal);
  $c->send("GET / HTTP/1.0\r\n\r\n");
  ok($c->is_closed(5), 'no header from the balancer: closed');
  logged($s, $bal, qr/ result=proxy-refused reason=no-header$/m, 'no header: logged');
  $c = smtp_connect($s->ip, $s->port, local_ip => $other);
  $c->send("PROXY TCP4 198.51.100.8 127.0.0.1 5555 25\r\n");
  my (undef, $text) = $c->read_reply(5);
  is($text, "220-smtp-screen.local\r\n220 smtp-screen.local\r\n", 'v1 from another peer: not believed, an early talker');
  like(($c->read_reply(5))[1], qr/^451 4\.7\.1 /, 'v1 from another peer: its header line refused');
  $c->close;
  logged($s, $other, qr/ result=refused first=PROXY TCP4 198\.51\.100\.8/m, 'v1 from another peer: logged as its own address');
  $s->stop;

  # IPv6 text as tcpserver writes it (its ip6_fmt: the first run of zero
  # groups is "::", even a single one), in TCPREMOTEIP and the rules key
  my $rules = make_cdb(rules => "2001:db8::1:2::allow,PFX6=\"first-run\"\n2001:db8:0:1::deny\n2001:db8:0:1:2:3:4:5:deny\n:allow\n");
  $s = start_screen(opts => ['-w', '0', '-P', $bal, '-x', $rules], argv => ['/bin/sh', '-c', 'echo "$TCPREMOTEIP $TCP6REMOTEIP ${PFX6-none}"']);
  $c = smtp_connect($s->ip, $s->port, local_ip => $bal);
  $c->send("PROXY TCP6 2001:db8:0:1:2:3:4:5 2001:db8::25 4444 25\r\n");
  is(($c->read_all(5))[0], "2001:db8::1:2:3:4:5 2001:db8::1:2:3:4:5 first-run\n", "an IPv6 client: TCPREMOTEIP and the rules key as tcpserver's");
  $s->stop;
}

# --- the real HAProxy in front (send-proxy, send-proxy-v2) -----------------------
SKIP: {
  skip 'haproxy not installed', 3 unless -x '/usr/sbin/haproxy';
  my ($hip, $src, $around) = map { loopback_ip() } 1 .. 3;
  my $s = start_screen(opts => ['-w', '0.5', '-P', $hip], argv => ["$top/t/bin/show-env"]);
  my %hport = (1 => free_port($hip), 2 => free_port($hip));
  my $hdir = tmpdir();
  open my $cfg, '>', "$hdir/haproxy.cfg" or die;
  print {$cfg} "global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n";
  for my $v (1, 2) {
    print {$cfg} "frontend f$v\n  bind $hip:$hport{$v}\n  default_backend b$v\nbackend b$v\n"
      . "  server screen @{[ $s->ip ]}:@{[ $s->port ]} send-proxy@{[ $v == 2 ? '-v2' : '' ]} source $hip\n";
  }
  close $cfg;
  my $haproxy = start_cmd(argv => ['/usr/sbin/haproxy', '-db', '-f', "$hdir/haproxy.cfg"], timeout => 300);
  wait_until(10, sub { IO::Socket::IP->new(PeerHost => $hip, PeerPort => $hport{2}, Timeout => 1) }, 'haproxy listens');
  for my $v (1, 2) {
    my $c = smtp_connect($hip, $hport{$v}, local_ip => $src, timeout => 10);
    like(($c->read_all(10))[0], qr/\A220-smtp-screen\.local\r\nip=\Q$src\E port=\d+ local=\Q$hip\E:$hport{$v} proto=TCP /,
      "HAProxy send-proxy" . ($v == 2 ? '-v2' : '') . ': the client behind it is the client');
  }
  my $c = smtp_connect($s->ip, $s->port, local_ip => $around);
  $c->send("PROXY TCP4 $src $hip 5555 25\r\n");
  like(($c->read_reply(5))[1], qr/^220-smtp-screen\.local\r\n220 smtp-screen\.local\r\n\z/, 'around the balancer: its header is talking first');
  kill 'TERM', $haproxy->pid;
  $haproxy->finish(10);
  $s->stop;
}

# --- hang-ups, resets; SIGTERM leaves children running --------------------------
{
  my ($gone, $rst, $kid, $held) = map { loopback_ip() } 1 .. 4;
  my $s = start_screen(opts => ['-w', '1'], argv => ['/bin/sh', '-c', 'sleep 1; echo "child of $TCPREMOTEIP still here"']);
  my $c = smtp_connect($s->ip, $s->port, local_ip => $gone);
  $c->read_line(5);
  $c->close;
  logged($s, $gone, qr/ result=hangup reason=closed$/m, 'a client that hangs up during the wait: logged');
  $c = smtp_connect($s->ip, $s->port, local_ip => $rst);
  $c->read_line(5);
  setsockopt($c->sock, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
  $c->close;
  logged($s, $rst, qr/ result=hangup reason=reset$/m, 'a client that resets: logged');
  my $k = smtp_connect($s->ip, $s->port, local_ip => $kid, timeout => 10);
  wait_until(5, sub { lines_for($s, $kid) =~ /result=pass/ }, 'the child started');
  my $h = smtp_connect($s->ip, $s->port, local_ip => $held, timeout => 10);
  is($h->read_line(5), "220-smtp-screen.local\r\n", 'a client held at SIGTERM: the teaser');
  kill 'TERM', $s->pid;
  wait_until(5, sub { !MXTest::_alive($s->pid) }, 'SIGTERM: smtp-screen exits');
  is($h->read_line(5) // '', "220 smtp-screen.local\r\n", 'SIGTERM: the greeting ended with one code');
  like($h->read_line(5) // '', qr/^421 4\.3\.2 /, 'SIGTERM: the held client gets 421');
  like(($k->read_all(5))[0], qr/child of \Q$kid\E still here/, 'SIGTERM: the handed-off child ran on');
  like($s->log_text, qr/ stop clients=1 children=1 result=stop$/m, 'SIGTERM: logged');
}

done_testing();

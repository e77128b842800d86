#!/usr/bin/perl
# smtp-forward: the chain in front of a real Postfix (Debian's package,
# unpacked into the test's directory: t/lib/MXPostfix.pm) over TCP.
# Postfix must judge the client, never the guard: with XCLIENT (-x) and
# with the PROXY header (-p 1, -p 2) it logs the client's address and
# refuses it relaying although every connection comes from 127.0.0.1,
# which Postfix trusts (mynetworks); plain forwarding is shown to be
# trusted, which is why the man page warns. rcptchecks in front refuses
# unknown recipients before Postfix sees them; 20 MB arrive byte for
# byte; a stopped, silent or XCLIENT-less server means 421 and exit 111
# within the deadline; a client's own XCLIENT is refused. Names: every
# address tried (A and AAAA, from tinydns).
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;
use MXPostfix;
use MXService;

my $top = top();
my $fwd = "$top/smtp-forward/smtp-forward";
plan skip_all => "$fwd not built" unless -x $fwd;

my $pf = start_postfix(listeners => {
  x => '',                                                   # XCLIENT allowed from 127.0.0.1
  p => '-o smtpd_upstream_proxy_protocol=haproxy',
  n => '-o smtpd_authorized_xclient_hosts=',                 # no XCLIENT offered
  # a site that trusts its whole network for XCLIENT and XFORWARD: a
  # client of that network (a relay client) passes Postfix's test too
  w => '-o smtpd_authorized_xclient_hosts=127.0.0.0/8 -o smtpd_authorized_xforward_hosts=127.0.0.0/8',
});
my $pip = $pf->ip;

# the client: a loopback address outside Postfix's mynetworks, with a
# forward-confirmed name in tinydns
my $client = loopback_ip();
my $dead = loopback_ip();    # nothing listens there
my $six_script = start_tcpserver(ip => '::1', opts => ['-H', '-R'],
  argv => ["$top/t/bin/smtp-script", '/dev/null', '220 six.mxtest.test scripted\r\n']);
my $dns = start_tinydns(data => join '', map { "$_\n" }
  '.mxtest.test::', '.127.in-addr.arpa::',
  "=client.mxtest.test:$client",
  "+inner.mxtest.test:$dead",
  "+inner.mxtest.test:$pip",
  ':six.mxtest.test:28:' . ('\000' x 15) . '\001');

my $dbdir = tmpdir();
my $cdb = "$dbdir/recipients.cdb";
make_cdb(recipients => "example.org\na\@example.org\n", $cdb);

my %env = (DNSCACHEIP => $dns->ip, RELAYCLIENT => undef);
my $guard_ip = loopback_ip();
sub guard {
  my (@argv) = @_;
  return start_tcpserver(ip => $guard_ip, opts => ['-R', '-H', '-l0'], env => \%env, argv => \@argv);
}
my $rcpt = "$top/rcptchecks/rcptchecks";
my %g = (
  x      => guard($rcpt, '-c', $cdb, $fwd, '-x', $pip, $pf->port('x')),
  xbare  => guard($fwd, '-x', $pip, $pf->port('x')),
  plain  => guard($fwd, $pip, $pf->port('x')),
  p1     => guard($fwd, '-p', '1', $pip, $pf->port('p')),
  p2     => guard($fwd, '-p', '2', $pip, $pf->port('p')),
  noxc   => guard($fwd, '-x', $pip, $pf->port('n')),
  byname => guard($fwd, '-x', '-T', '5', 'inner.mxtest.test', $pf->port('x')),
  six    => guard($fwd, '-T', '5', 'six.mxtest.test', $six_script->port),
);
# relay clients (RELAYCLIENT, as tcprules or relaydb-check set it)
{
  local $env{RELAYCLIENT} = '';
  $g{wbare}  = guard($fwd, '-x', $pip, $pf->port('w'));
  $g{wrelay} = guard($rcpt, '-c', $cdb, $fwd, '-x', $pip, $pf->port('w'));
}

sub session {
  my ($g, @cmds) = @_;
  my $c = smtp_connect($g->ip, $g->port, local_ip => $client, timeout => 20);
  my @replies = (scalar(($c->read_reply)[1]));
  push @replies, $c->cmd($_, 20) for @cmds;
  $c->close;
  return @replies;
}

sub log_since { my ($from) = @_; substr($pf->maillog, $from) }

subtest 'XCLIENT: Postfix judges the client, by address, port and name' => sub {
  my $from = length $pf->maillog;
  my @r = session($g{x}, 'EHLO client.mxtest.test', 'MAIL FROM:<s@sender.test>', 'RCPT TO:<someone@elsewhere.example>',
    'RCPT TO:<a@example.org>', 'QUIT');
  like($r[0], qr/^220 inner\.mxtest\.test /, 'the client sees Postfix\'s greeting (the one after XCLIENT)');
  unlike($r[1], qr/XCLIENT/, 'XCLIENT is not offered to the client');
  like($r[3], qr/^454 4\.7\.1 .*Relay access denied/, 'relaying refused: Postfix judges the client, not 127.0.0.1');
  like($r[4], qr/^250 /, 'a local recipient is taken');
  wait_until(10, sub { log_since($from) =~ /disconnect from client\.mxtest\.test\[\Q$client\E\]:\d+/ },
    "Postfix logs the client's forward-confirmed name, address and port") or diag log_since($from);
  like(log_since($from), qr/reject: RCPT from client\.mxtest\.test\[\Q$client\E\]:\d+: 454/, 'and refuses that client');
  wait_until(10, sub { $g{x}->log_text =~ /^smtp-forward: info: pid \d+ ip \Q$client\E server=\Q$pip\E:\d+ mode=xclient name=client\.mxtest\.test up=\d+ down=\d+ result=closed$/m },
    'smtp-forward logs the session, at its end') or diag $g{x}->log_text;
};

subtest 'plain forwarding: the server trusts the guard (the man page\'s warning)' => sub {
  my @r = session($g{plain}, 'EHLO client.mxtest.test', 'MAIL FROM:<s@sender.test>', 'RCPT TO:<someone@elsewhere.example>', 'QUIT');
  like($r[3], qr/^250 /, 'without -x or -p, Postfix takes the client for 127.0.0.1 and would relay');
};

for my $v (1, 2) {
  subtest "PROXY header version $v: Postfix judges the client" => sub {
    my $from = length $pf->maillog;
    my @r = session($g{"p$v"}, 'EHLO client.mxtest.test', 'MAIL FROM:<s@sender.test>', 'RCPT TO:<someone@elsewhere.example>',
      'RCPT TO:<a@example.org>', 'DATA', "Subject: PROXY v$v\r\n\r\nbody\r\n.", 'QUIT');
    like($r[0], qr/^220 inner\.mxtest\.test /, 'greeting');
    like($r[3], qr/^454 4\.7\.1 .*Relay access denied/, 'relaying refused');
    like($r[4], qr/^250 /, 'a local recipient is taken');
    wait_until(10, sub { log_since($from) =~ /connect from unknown\[\Q$client\E\]:\d+/ },
      "Postfix logs $client") or diag log_since($from);
    unlike(log_since($from), qr/: connect from \S*\[127\.0\.0\.1\]/, 'and never the guard');
    # the trace: Postfix's own name lookup after a PROXY header finds
    # nothing here (no DNS for the client), hence "unknown"
    my $m;
    wait_until(10, sub { ($m) = grep { /^Subject: PROXY v$v\r?$/m } $pf->messages; defined $m },
      "PROXY v$v: the message is delivered");
    like($m // '', qr/^Received: from client\.mxtest\.test \(unknown \[\Q$client\E\]\)/m,
      "PROXY v$v: Postfix's Received line names the client");
  };
}

subtest 'rcptchecks in front: an unknown recipient never reaches Postfix' => sub {
  my $from = length $pf->maillog;
  my @r = session($g{x}, 'EHLO client.mxtest.test', 'MAIL FROM:<s@sender.test>', 'RCPT TO:<nobody@example.org>', 'QUIT');
  like($r[3], qr/^550 /, 'refused by rcptchecks');
  # the session's end in Postfix's log: whatever it was sent came before
  wait_until(10, sub { log_since($from) =~ /disconnect from client\.mxtest\.test\[\Q$client\E\]/ },
    'Postfix logs the end of the session')
    or diag log_since($from);
  unlike(log_since($from), qr/nobody\@example\.org/, 'Postfix never saw it');
};

subtest "a client's own XCLIENT is refused by Postfix" => sub {
  my @r = session($g{xbare}, 'EHLO client.mxtest.test', 'XCLIENT ADDR=127.0.0.1 NAME=localhost', 'EHLO x',
    'MAIL FROM:<s@sender.test>', 'RCPT TO:<someone@elsewhere.example>', 'QUIT');
  like($r[2], qr/^550 5\.7\.0 .*insufficient authorization/, 'XCLIENT after the hand-over: 550');
  like($r[5], qr/^454 4\.7\.1 /, 'still no relaying');
  @r = session($g{x}, 'EHLO client.mxtest.test', 'XCLIENT ADDR=127.0.0.1');
  like($r[2], qr/^502 /, 'with rcptchecks in front: 502, never passed on');
};

subtest 'a relay client\'s XCLIENT and XFORWARD never reach Postfix' => sub {
  # why: without rcptchecks in front, a server that trusts the client's
  # network for XCLIENT takes the client's word for its address
  my $from = length $pf->maillog;
  my @r = session($g{wbare}, 'EHLO client.mxtest.test', 'XCLIENT ADDR=192.0.2.97 NAME=forged0.mxtest.test', 'QUIT');
  like($r[2], qr/^220 /, 'smtp-forward alone: Postfix takes the client\'s XCLIENT (220), the hole rcptchecks closes');
  wait_until(10, sub { log_since($from) =~ /forged0\.mxtest\.test\[192\.0\.2\.97\]/ }, '... and Postfix believes it')
    or diag log_since($from);

  $from = length $pf->maillog;
  @r = session($g{wrelay}, 'EHLO client.mxtest.test', 'XCLIENT ADDR=192.0.2.98 NAME=forged.mxtest.test',
    'XFORWARD ADDR=192.0.2.99 NAME=forged2.mxtest.test', 'xclient NAME=forged3.mxtest.test', 'EHLO client.mxtest.test',
    'MAIL FROM:<s@sender.test>', 'RCPT TO:<a@example.org>', 'DATA',
    "Subject: relay\r\nDate: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-Id: <relay\@sender.test>\r\n\r\nrelayed\r\n.", 'QUIT');
  unlike($r[1], qr/XCLIENT|XFORWARD/, 'EHLO through rcptchecks offers neither');
  like($r[$_], qr/^502 5\.5\.1 command not recognised\r\n\z/, "command $_: 502 from rcptchecks") for 2 .. 4;
  like($r[8], qr/^354 /, 'the relay client\'s message: DATA');
  like($r[9], qr/^250 /, '... accepted');
  my $got;
  wait_until(20, sub { ($got) = grep { /^Message-Id: <relay\@sender\.test>/mi } $pf->messages; defined $got }, 'delivered');
  $got //= '';
  like($got, qr/^Received: from client\.mxtest\.test \(client\.mxtest\.test \[\Q$client\E\]\)/m, 'Received names the real client (smtp-forward\'s XCLIENT)')
    or diag $got;
  wait_until(10, sub { log_since($from) =~ /disconnect from client\.mxtest\.test\[\Q$client\E\]/ }, 'the session ended');
  unlike(log_since($from), qr/forged|192\.0\.2\.9[89]/, 'Postfix never saw the XCLIENT or XFORWARD: not in its log');
  unlike($got, qr/forged|192\.0\.2\.9[89]/, '... nor in the message');
  like($g{wrelay}->log_text, qr/^rcptchecks: info: pid \d+ ip \Q$client\E result=trusted$/m, 'rcptchecks logged the client as trusted');
};

subtest '20 MB delivered byte for byte' => sub {
  my $body = '';
  my $i = 0;
  while (length $body < 20 * 1024 * 1024) {
    # lines of every length up to 998, some starting with a dot
    my $len = ($i * 7919) % 999;
    $body .= ($i % 13 == 0 ? '.' : '') . join('', map { chr(33 + ($i + $_) % 94) } 1 .. $len) . "\r\n";
    $i++;
  }
    # Date and Message-Id given, so that Postfix adds no header of its own
  my $msg = "From: s\@sender.test\r\nTo: a\@example.org\r\nSubject: twenty megabytes\r\n"
    . "Date: Tue, 1 Dec 2026 12:00:00 +0000\r\nMessage-Id: <twenty\@sender.test>\r\n\r\n$body";
  (my $stuffed = $msg) =~ s/^\./../mg;
  my $c = smtp_connect($g{x}->ip, $g{x}->port, local_ip => $client, timeout => 60);
  $c->expect(qr/^220 /);
  $c->sendline('EHLO client.mxtest.test'); $c->expect(qr/^250 /m);
  $c->sendline('MAIL FROM:<s@sender.test>'); $c->expect(qr/^250 /);
  $c->sendline('RCPT TO:<a@example.org>'); $c->expect(qr/^250 /);
  $c->sendline('DATA'); $c->expect(qr/^354 /);
  ok($c->send("$stuffed.\r\n", 120), 'sent');
  $c->expect(qr/^250 2\.0\.0 Ok: queued/, 120, 'queued by Postfix');
  $c->sendline('QUIT'); $c->expect(qr/^221 /);
  my $got;
  wait_until(60, sub { ($got) = grep { /^Subject: twenty megabytes$/m } $pf->messages; defined $got }, 'delivered');
  $got //= '';
  (my $want = $msg) =~ s/\r\n/\n/g;    # a maildir file has LF line ends
  ok(length $got > length $want && substr($got, -length $want) eq $want, 'the message arrives byte for byte')
    or diag 'got ' . length($got) . ' bytes, want ' . length($want) . ' at the end; head: ' . substr($got, 0, 600);
  like($got, qr/^Received: from client\.mxtest\.test \(client\.mxtest\.test \[\Q$client\E\]\)/m, 'Received: names the client');
};

subtest 'smtp-tls in front: TLS to the guard, XCLIENT to Postfix' => sub {
  my ($cert, $key) = make_cert(tmpdir(), 'mx.example.org');
  my $tls = guard("$top/smtp-tls/smtp-tls", '-c', $cert, '-k', $key, $rcpt, '-c', $cdb, $fwd, '-x', $pip, $pf->port('x'));
  my ($rc, $out) = swaks(server => $tls, opts => ['--tls', '--local-interface', $client, '--from', 's@sender.test',
    '--to', 'a@example.org', '--header', 'Subject: over TLS']);
  is($rc, 0, 'swaks --tls through smtp-tls, rcptchecks and smtp-forward') or diag $out;
  # found by its Subject: the maildir's order is by whole seconds
  my $m;
  wait_until(20, sub { ($m) = grep { /^Subject: over TLS/m } $pf->messages; defined $m }, 'delivered: the message');
  like($m // '', qr/^Received: from \S+ \(client\.mxtest\.test \[\Q$client\E\]\)/m, 'Postfix names the client');
};

subtest 'names: every address of the name is tried, IPv6 too' => sub {
  for (1 .. 3) {
    my @r = session($g{byname}, 'QUIT');
    like($r[0], qr/^220 inner\.mxtest\.test /, "try $_: reached Postfix although one address is dead");
  }
  my @r = session($g{six}, 'QUIT');
  like($r[0], qr/^220 six\.mxtest\.test scripted/, 'a name with only an AAAA record (::1)');
  wait_until(10, sub { $g{six}->log_text =~ /server=::1:\d+ mode=plain up=\d+ down=\d+ result=closed/ }, 'connected over IPv6')
    or diag $g{six}->log_text;
};

subtest 'examples/service/smtpd-forward/run: the qpsmtpd layout, for real' => sub {
  my $dir = tmpdir();
  my $port = free_port($guard_ip);
  my $built = join ':', map { "$top/$_" } qw(relaydb rblenv smtp-delay smtp-tls rcptchecks smtp-forward);
  install_script('service/smtpd-forward/run', "$dir/run",
    PATH => "$built:/usr/sbin:/usr/bin:/sbin:/bin", IP => $guard_ip, PORT => $port, LOCALNAME => 'mx.mxtest.test',
    SMTPUID => $<, SMTPGID => (split ' ', $()[0], RULES => '', RELAYSTORE => $dbdir, BLOCKLISTS => '', ALLOWLISTS => '',
    DNSCACHEIP => $dns->ip, TLSCERT => '', RECIPIENTS => $cdb, MTAHOST => $pip, MTAPORT => $pf->port('x'), MTATIMEOUT => 5);
  my $job = start_cmd(argv => ["$dir/run"], env => { SMTPDELAY => '0', RELAYCLIENT => undef }, timeout => 60);
  wait_until(10, sub { IO::Socket::IP->new(PeerHost => $guard_ip, PeerPort => $port) }, 'the run script listens');
  my $from = length $pf->maillog;
  my $c = smtp_connect($guard_ip, $port, local_ip => $client, timeout => 20);
  $c->expect(qr/^220 inner\.mxtest\.test /, 10, 'Postfix greets through the whole chain');
  $c->sendline('EHLO client.mxtest.test'); $c->expect(qr/^250 /m);
  $c->sendline('MAIL FROM:<s@sender.test>'); $c->expect(qr/^250 /);
  $c->sendline('RCPT TO:<nobody@example.org>'); $c->expect(qr/^550 /, 10, 'unknown recipient: 550 from rcptchecks');
  $c->sendline('RCPT TO:<someone@elsewhere.example>'); $c->expect(qr/^454 4\.7\.1 /, 10, 'relaying: refused by Postfix');
  $c->sendline('QUIT'); $c->expect(qr/^221 /);
  wait_until(10, sub { log_since($from) =~ /reject: RCPT from client\.mxtest\.test\[\Q$client\E\]/ },
    'Postfix judged the client');
  kill 'TERM', -$job->pid;
  $job->finish(10);
};

subtest 'no XCLIENT offered: 421, fail closed' => sub {
  my $from = length $pf->maillog;
  my @r = session($g{noxc}, 'EHLO client.mxtest.test');
  like($r[0], qr/^421 4\.3\.0 /, '421 4.3.0 instead of a session the server would take for the guard\'s');
  like($g{noxc}->log_text, qr/^smtp-forward: warning: pid \d+ ip \Q$client\E server=\Q$pip\E:\d+ result=unavailable reason=XCLIENT not offered$/m, 'logged');
  wait_until(10, sub { $g{noxc}->log_text =~ /end \d+ status 28416/ }, 'exit 111') or diag $g{noxc}->log_text;
};

subtest 'nothing untrue is told: a bad environment means no session' => sub {
  my %base = (TCPREMOTEIP => $client, TCPREMOTEPORT => '4444', TCPLOCALIP => $guard_ip, TCPLOCALPORT => '25', DNSCACHEIP => $dns->ip);
  my $from = length $pf->maillog;
  my @names;
  for my $case (
    ['-x, TCPREMOTEPORT=123abc', ['-x', '-H', $pip, $pf->port('x')], { TCPREMOTEPORT => '123abc' }, qr/no client port/],
    ['-x, TCPREMOTEPORT=70000', ['-x', '-H', $pip, $pf->port('x')], { TCPREMOTEPORT => '70000' }, qr/no client port/],
    ['-x, no TCPREMOTEIP', ['-x', '-H', $pip, $pf->port('x')], { TCPREMOTEIP => undef }, qr/no client address/],
    ['-p 1, TCPREMOTEPORT=0', ['-p', '1', $pip, $pf->port('p')], { TCPREMOTEPORT => '0' }, qr/no client port/],
    ['-p 2, TCPLOCALPORT=70000', ['-p', '2', $pip, $pf->port('p')], { TCPLOCALPORT => '70000' }, qr/no local address/],
    ['-p 2, no TCPLOCALIP', ['-p', '2', $pip, $pf->port('p')], { TCPLOCALIP => undef }, qr/no local address/],
  ) {
    my ($name, $args, $env, $why) = @$case;
    push @names, $name;
    my ($rc, $out, $err) = run_cmd(argv => [$fwd, @$args], env => { %base, %$env }, stdin => "QUIT\r\n", timeout => 20);
    is($rc, 111, "$name: exit 111");
    like($out, qr/\A421 4\.3\.0 /, "$name: 421");
    like($err, $why, "$name: logged") or diag $err;
  }
  # then one session that does reach the server: once Postfix has logged
  # its end, a connection of the cases above would have been logged too
  my ($rc, $out) = run_cmd(argv => [$fwd, '-x', '-H', $pip, $pf->port('x')], env => { %base, TCPREMOTEPORT => undef },
    stdin => "QUIT\r\n", timeout => 20);
  like($out, qr/\A220 .*\r\n221 /s, '-x without TCPREMOTEPORT: a session, PORT not sent');
  wait_until(10, sub { log_since($from) =~ /: disconnect from /m }, "the end of that session in Postfix's log");
  my @connects = log_since($from) =~ /: (connect from .*)$/mg;
  is(scalar @connects, 1, 'the server saw that one connection, none of: ' . join '; ', @names) or diag join "\n", @connects;
};

subtest 'the server silent, or gone: 421 within the deadline' => sub {
  # a socket that takes connections (the kernel's backlog) but never speaks
  my $sip = loopback_ip();
  my $silent = IO::Socket::IP->new(LocalHost => $sip, LocalPort => 0, Listen => 5) or die "listen: $@";
  my $slow = guard($fwd, '-T', '1', $sip, $silent->sockport);
  my $t0 = time;
  my @r = session($slow, 'QUIT');
  my $took = time - $t0;
  like($r[0], qr/^421 4\.3\.0 /, 'a server that never greets: 421');
  cmp_ok($took, '<', 5, sprintf 'within the -T deadline (%.1f s for -T 1)', $took);
  like($slow->log_text, qr/result=unavailable reason=no reply in time/, 'logged');

  $pf->stop;
  $t0 = time;
  @r = session($g{x}, 'EHLO client.mxtest.test');
  like($r[0], qr/^421 4\.3\.0 /, 'Postfix stopped: 421');
  cmp_ok(time - $t0, '<', 5, 'at once');
  like($g{x}->log_text, qr/result=unavailable reason=connect failed$/m, 'logged');
  @r = session($g{byname}, 'QUIT');
  like($r[0], qr/^421 4\.3\.0 /, 'by name, every address refusing: 421');
  $pf->start;
  @r = session($g{x}, 'QUIT');
  like($r[0], qr/^220 /, 'Postfix back: sessions again');
};


done_testing;

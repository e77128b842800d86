#!/usr/bin/perl
# The whole SMTP chain end to end, in the two orders smtp-delay(8)
# documents:
#
#   spec:  tcpserver relaydb-check rblenv rblsmtpd smtp-delay rcptchecks exim
#   early: tcpserver relaydb-check smtp-delay -r rblenv rblsmtpd rcptchecks exim
#          ("smtp-delay first, with -r, before rblsmtpd")
#
# with the real tcpserver (-p, names from tinydns through DNSCACHEIP),
# rblenv asking a blocklist zone served by tinydns, the real rblsmtpd,
# relaydb's MariaDB store filled by a POP chain (tcpserver pop-login
# relaydb-rec pop3d-stub), rcptchecks with a CDB (spec order) or with a
# MariaDB source whose tables this test creates (early order), exim4 -bs
# behind it and swaks or a scripted client in front. For each order: a
# listed client is refused by rblsmtpd with the zone's TXT text and never
# reaches exim; an early talker is refused on smtp-delay's path; a
# listed early talker is refused on the path the order documents; a
# roaming user (listed, with a dynamic name) is refused before a POP
# login and relays after it, greeted at once, with result=trusted from
# rblenv, smtp-delay and rcptchecks under one pid; an unknown recipient
# gets 550 5.1.1 from rcptchecks; a clean message arrives byte for byte;
# nothing else is delivered and no process is left.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;
use MXChain;

my $top = top();
my %bin = chain_programs();
for (sort keys %bin) { plan skip_all => "$bin{$_} not built" unless -x $bin{$_} }

my $ZONE = 'bl.mxguard.test';
# smtp-delay's delays: none, dynamic, named. That a trusted (dynamic)
# client skips its delay is read from smtp-delay's log (result=trusted:
# it hands on at once), not from the client's clock, which a loaded
# machine stretches past any delay short enough for this test.
my %DELAY = (none => '0.5', dynamic => '2', named => '0.3');
my $EARLY_TEXT = 'Talking before the greeting is not allowed (RFC 5321 section 4.3.1)';

# ---------------------------------------------------------------------------
# the clients, their names and listings (one set per order, so that each
# order's log lines can be told apart)

sub rev { join '.', reverse split /\./, $_[0] }

my @ORDERS = qw(spec early);
my (%ip, %name, %txt);
for my $o (@ORDERS) {
  # listed: no name (class none); early: named; listed_early: no name;
  # roamer: listed and dynamic; named, sender: named
  for my $who (qw(listed early listed_early roamer named sender)) {
    $ip{$o}{$who} = loopback_ip();
  }
  $name{$o}{early}  = "mta-$o-e.senders.mxguard.test";
  $name{$o}{named}  = "mta-$o-n.senders.mxguard.test";
  $name{$o}{sender} = "mta-$o-s.senders.mxguard.test";
  $name{$o}{roamer} = "dsl-$o-7.dyn.mxguard.test";
  for my $who (qw(listed listed_early roamer)) {
    $txt{$o}{$who} = "$ip{$o}{$who} is listed in $ZONE (chain-e2e $o $who)";
  }
}
my $data = join '', map { "$_\n" } '.mxguard.test::', '.in-addr.arpa::',
  (map { my $o = $_; map { "=$name{$o}{$_}:$ip{$o}{$_}" } sort keys %{ $name{$o} } } @ORDERS),
  (map { my $o = $_; map { ('+' . rev($ip{$o}{$_}) . ".$ZONE:127.0.0.2",
                            "'" . rev($ip{$o}{$_}) . ".$ZONE:$txt{$o}{$_}") } sort keys %{ $txt{$o} } } @ORDERS);
my $dns = start_tinydns(data => $data);

# ---------------------------------------------------------------------------
# MariaDB: relaydb's store (its table is created by the programs) and
# the recipient tables of rcptchecks' SQL source (created here)

my $db = start_mariadb();
my @STORE = ('-g', $db->group, '-f', $db->cnf);
$db->sql(<<'SQL');
CREATE TABLE rcptchecks_domains (domain VARBINARY(255) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE rcptchecks_addresses (address VARBINARY(320) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO rcptchecks_domains VALUES ('example.org'), ('example.net');
INSERT INTO rcptchecks_addresses VALUES ('alice@example.org'), ('bob-default@example.org'),
  ('postmaster@example.org'), ('@example.net');
SQL

# the same recipients as a CDB
my $cdbdir = tmpdir();
my $cdb = "$cdbdir/recipients.cdb";
make_cdb(recipients => "example.org\nalice\@example.org\nbob-default\@example.org\npostmaster\@example.org\n\@example.net\n", $cdb);

# the POP chain, shared by both orders: a good login records the client
my $pop = start_tcpserver(opts => ['-R', '-H', '-l0'],
  argv => ["$top/t/bin/pop-login", $bin{rec}, @STORE, "$top/t/bin/pop3d-stub"]);

# ---------------------------------------------------------------------------
# helpers

# the SMTP chain of an order, in front of its own exim
sub smtp_chain {
  my ($order) = @_;
  my $mta = exim_child();
  my @check = ($bin{check}, @STORE, '-m', '30');
  my @rblenv = ($bin{rblenv}, '-t', '3', '-r', $ZONE);
  my @delay = ($bin{delay}, '-n', $DELAY{none}, '-y', $DELAY{dynamic}, '-k', $DELAY{named}, '-t', '10');
  my @rcpt = ($bin{rcptchecks}, ($order eq 'spec' ? ('-c', $cdb) : ('-g', $db->group, '-f', $db->cnf)),
    '-d', '0', '-u', '0.05', '-t', '30');
  my @argv = $order eq 'spec'
    ? (@check, @rblenv, '/usr/bin/rblsmtpd', @delay, @rcpt, @{ $mta->argv })
    : (@check, @delay, '-r', @rblenv, '/usr/bin/rblsmtpd', @rcpt, @{ $mta->argv });
  my $s = start_tcpserver(opts => ['-R', '-p', '-l', 'mx.example.org'],
    env => { DNSCACHEIP => $dns->ip, RELAYCLIENT => undef, RBLSMTPD => undef, RBLLATE => undef },
    argv => \@argv);
  return ($s, $mta);
}

# waits (bounded) until tcpserver logs the end of $ip's last connection
sub wait_end {
  my ($s, $ip, $what) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  return wait_until(15, sub {
    my $pid = conn_pid($s, $ip);
    $pid > 0 && $s->log_text =~ /^tcpserver: end \Q$pid\E status \d+$/m;
  }, "the end of the session of $what");
}

# a POP login from $src; what the client heard
sub pop_login {
  my ($src, $pass) = @_;
  my $c = smtp_connect($pop->ip, $pop->port, local_ip => $src, timeout => 10);
  my @said = ($c->read_line);
  for ('USER alice', "PASS $pass") { $c->sendline($_); push @said, $c->read_line }
  $c->sendline('QUIT');
  push @said, $c->read_line;
  $c->close;
  return join '', map { $_ // "(nothing)\n" } @said;
}

# one command on a scripted session, its whole reply

# ---------------------------------------------------------------------------

for my $order (@ORDERS) {
  subtest "order $order" => sub {
    my %c = %{ $ip{$order} };
    my ($s, $mta) = smtp_chain($order);
    note "chain: " . ($order eq 'spec' ? 'relaydb-check rblenv rblsmtpd smtp-delay rcptchecks'
                                       : 'relaydb-check smtp-delay -r rblenv rblsmtpd rcptchecks') . ' exim';

    # -- a client in the blocklist
    my ($rc, $out) = run_swaks($s, $c{listed}, '--to', 'alice@example.org');
    like($out, qr/^<\*\* 451 \Q$txt{$order}{listed}\E\r?$/m, 'listed: refused by rblsmtpd with the TXT text');
    like($out, qr/^<- +220 rblsmtpd\.local/m, 'listed: rblsmtpd greets');
    unlike($out, qr/Exim/, 'listed: exim never speaks');
    wait_end($s, $c{listed}, 'the listed client');
    my $pid = conn_pid($s, $c{listed});
    like(lines_of($s, 'rblenv', $c{listed}),
      qr/^rblenv: info: pid $pid ip \Q$c{listed}\E zone=\Q$ZONE\E:127\.0\.0\.2,listed,\d+ms score=1 result=refused elapsed=\d+$/m,
      'listed: rblenv logged result=refused');
    like($s->log_text, qr/^rblsmtpd: \Q$c{listed}\E pid $pid: 451 \Q$txt{$order}{listed}\E$/m, 'listed: rblsmtpd logged the refusal');
    like(lines_of($s, 'relaydb-check', $c{listed}),
      qr/^relaydb-check: info: pid $pid ip \Q$c{listed}\E store=sql window=1800 result=unknown$/, 'listed: relaydb-check: unknown');
    is(lines_of($s, 'rcptchecks', $c{listed}), '', 'listed: rcptchecks (and so exim) never ran');
    if ($order eq 'spec') {
      is(lines_of($s, 'smtp-delay', $c{listed}), '', 'listed: smtp-delay never ran (it comes after rblsmtpd)');
    } else {
      like(lines_of($s, 'smtp-delay', $c{listed}),
        qr/^smtp-delay: info: pid $pid ip \Q$c{listed}\E class=none host=- why=noname delay=0\.500 waited=(?:0\.[5-9]|1\.)\d\d result=pass$/,
        'listed: smtp-delay held it for its delay first (the price of this order)');
    }

    # -- an early talker (named: the shortest delay)
    my $c = smtp_connect($s->ip, $s->port, local_ip => $c{early}, timeout => 10);
    $c->send("EHLO early.test\r\nMAIL FROM:<spam\@other.test>\r\nRCPT TO:<alice\@example.org>\r\nQUIT\r\n");
    my ($said, $eof) = $c->read_all(10);
    $c->close;
    ok($eof, 'early talker: the connection is closed after QUIT');
    like($said, qr/^451 (?:4\.7\.1 )?\Q$EARLY_TEXT\E\r$/m, 'early talker: RCPT gets 451 with the early-talker text') or diag $said;
    like($said, qr/^221 /m, 'early talker: QUIT 221');
    unlike($said, qr/Exim/, 'early talker: exim never speaks');
    wait_end($s, $c{early}, 'the early talker');
    $pid = conn_pid($s, $c{early});
    if ($order eq 'spec') {
      like($said, qr/\A220 mx\.example\.org\r\n/, 'early talker: smtp-delay greets with TCPLOCALHOST');
      like(lines_of($s, 'smtp-delay', $c{early}),
        qr/^smtp-delay: info: pid $pid ip \Q$c{early}\E class=named host=\Q$name{$order}{early}\E why=name delay=0\.300 waited=0\.[0-2]\d\d result=refused first=EHLO early\.test\?\?MAIL FROM:<spam\@other\.test>\?\?RCPT TO:<alice\@example\.org>\?\?QUIT\?\?$/,
        'early talker: smtp-delay refused it itself (named class, name from tinydns)');
      like(lines_of($s, 'rblenv', $c{early}), qr/ip \Q$c{early}\E zone=\Q$ZONE\E:nx,\d+ms score=0 result=clean /,
        'early talker: rblenv found it clean');
    } else {
      like($said, qr/\A220 rblsmtpd\.local\r\n/, 'early talker: rblsmtpd greets');
      like(lines_of($s, 'smtp-delay', $c{early}),
        qr/^smtp-delay: info: pid $pid ip \Q$c{early}\E class=named host=\Q$name{$order}{early}\E why=name delay=0\.300 waited=0\.[0-2]\d\d result=refused via=rblsmtpd first=EHLO early\.test\?\?/,
        'early talker: smtp-delay handed it to rblsmtpd');
      like(lines_of($s, 'rblenv', $c{early}),
        qr/^rblenv: info: pid $pid ip \Q$c{early}\E result=decided reason=RBLSMTPD already set$/,
        'early talker: rblenv made no lookup');
      like($s->log_text, qr/^rblsmtpd: \Q$c{early}\E pid $pid: 451 \Q$EARLY_TEXT\E$/m, 'early talker: rblsmtpd logged the refusal');
    }
    is(lines_of($s, 'rcptchecks', $c{early}), '', 'early talker: rcptchecks never ran');

    # -- a listed early talker: each order refuses it on its own path
    $c = smtp_connect($s->ip, $s->port, local_ip => $c{listed_early}, timeout => 10);
    $c->send("EHLO early.test\r\nMAIL FROM:<spam\@other.test>\r\nRCPT TO:<alice\@example.org>\r\nQUIT\r\n");
    ($said) = $c->read_all(10);
    $c->close;
    wait_end($s, $c{listed_early}, 'the listed early talker');
    if ($order eq 'spec') {
      like($said, qr/^451 \Q$txt{$order}{listed_early}\E\r$/m, 'listed early talker: refused with the blocklist text');
      is(lines_of($s, 'smtp-delay', $c{listed_early}), '', '... and never seen by smtp-delay');
    } else {
      like($said, qr/^451 \Q$EARLY_TEXT\E\r$/m, 'listed early talker: refused as an early talker');
      like(lines_of($s, 'smtp-delay', $c{listed_early}), qr/ result=refused via=rblsmtpd first=/, '... logged by smtp-delay');
      like(lines_of($s, 'rblenv', $c{listed_early}), qr/ result=decided reason=RBLSMTPD already set$/, '... and not looked up');
    }
    unlike($said, qr/Exim/, 'listed early talker: exim never speaks');

    # -- a roaming user: listed, dynamic; refused before the POP login
    ($rc, $out) = run_swaks($s, $c{roamer}, '--to', 'friend@elsewhere.test');
    like($out, qr/^<\*\* 451 \Q$txt{$order}{roamer}\E\r?$/m, 'roamer before login: refused by rblsmtpd');
    wait_end($s, $c{roamer}, 'the roamer before login');
    my $t0 = time;
    like(pop_login($c{roamer}, 'secret'), qr/^\+OK maildrop of alice ready\r$/m, 'roamer: POP login served');
    my $took = time - $t0;
    # < 6: relaydb-rec's -t (1 s by default) and room for a loaded machine
    ok($took < 6, sprintf(q{roamer: the login was not held up (%.2f s)}, $took));
    wait_until(10, sub { $pop->log_text =~ /^relaydb-rec: info: pid \d+ ip \Q$c{roamer}\E store=sql ts=\d+ result=recorded$/m },
      'relaydb-rec logs the record');
    # greeted at once: no smtp-delay delay (dynamic: 2 s)
    $t0 = time;
    $c = smtp_connect($s->ip, $s->port, local_ip => $c{roamer}, timeout => 10);
    my ($code, $greet) = $c->read_reply(10);
    my $greet_after = time - $t0;
    like($greet, qr/^220 mx\.example\.org ESMTP Exim /, 'roamer after login: exim greets');
    note sprintf 'roamer: greeted after %.2f s (its class delay is %s s)', $greet_after, $DELAY{dynamic};
    like($c->cmd('QUIT'), qr/^221 /, 'roamer: QUIT');
    $c->close;
    wait_end($s, $c{roamer}, 'the roamer\'s first trusted session');
    my $gpid = conn_pid($s, $c{roamer});
    like(lines_of($s, 'smtp-delay', $c{roamer}), qr/^smtp-delay: info: pid $gpid ip \Q$c{roamer}\E result=trusted$/m,
      'roamer: greeted without its class delay (smtp-delay: result=trusted, no class, no wait)');
    ($rc, $out) = run_swaks($s, $c{roamer}, '--to', 'friend@elsewhere.test', '--from', 'alice@example.org',
      '--header', "Subject: relayed $order", '--body', "relayed through the $order chain");
    is($rc, 0, 'roamer: relays to a foreign domain') or diag $out;
    like($out, qr/^<- +250 .*\n.*^ -> QUIT/ms, 'roamer: the message was accepted');
    wait_end($s, $c{roamer}, 'the roamer\'s relay session');
    $pid = conn_pid($s, $c{roamer});
    like(lines_of($s, 'relaydb-check', $c{roamer}),
      qr/^relaydb-check: info: pid $pid ip \Q$c{roamer}\E store=sql age=\d+ window=1800 result=relay$/m, 'roamer: relaydb-check: relay');
    like(lines_of($s, 'rblenv', $c{roamer}), qr/^rblenv: info: pid $pid ip \Q$c{roamer}\E result=trusted$/m, 'roamer: rblenv: trusted (no lookup)');
    like(lines_of($s, 'smtp-delay', $c{roamer}), qr/^smtp-delay: info: pid $pid ip \Q$c{roamer}\E result=trusted$/m, 'roamer: smtp-delay: trusted');
    like(lines_of($s, 'rcptchecks', $c{roamer}), qr/^rcptchecks: info: pid $pid ip \Q$c{roamer}\E result=trusted$/m, 'roamer: rcptchecks: trusted');
    unlike($s->log_text, qr/^rblsmtpd: \Q$c{roamer}\E pid $pid:/m, 'roamer: rblsmtpd let it through');

    # -- an unknown recipient of a local domain
    ($rc, $out) = run_swaks($s, $c{named}, '--to', 'nobody@example.org');
    like($out, qr/^<\*\* 550 5\.1\.1 <nobody\@example\.org>/m, 'unknown recipient: 550 5.1.1 from rcptchecks');
    like($out, qr/^<- +220 mx\.example\.org ESMTP Exim /m, 'unknown recipient: the client got as far as exim');
    wait_end($s, $c{named}, 'the unknown recipient\'s session');
    $pid = conn_pid($s, $c{named});
    my $rl = lines_of($s, 'rcptchecks', $c{named});
    like($rl, qr/^rcptchecks: info: pid $pid ip \Q$c{named}\E helo=<[^>]*> from=<[^>]*> rcpt=<nobody\@example\.org> result=unknown delay=\d+\.\d{3}$/m,
      'unknown recipient: rcptchecks logged it');
    like($rl, qr/^rcptchecks: info: pid $pid ip \Q$c{named}\E helo=<[^>]*> from=<[^>]*> rcpts=1 forwarded=0 unknown=1 refused=1 tempfail=0 messages=0 databytes=0 result=quit$/m,
      'unknown recipient: never forwarded');
    like(lines_of($s, 'smtp-delay', $c{named}),
      qr/^smtp-delay: info: pid $pid ip \Q$c{named}\E class=named host=\Q$name{$order}{named}\E why=name delay=0\.300 waited=(?:0\.[3-9]|1\.)\d\d result=pass$/,
      'unknown recipient: smtp-delay passed the named client after its delay');
    unlike($mta->log_text, qr/nobody\@example\.org/, 'unknown recipient: exim never heard of it');

    # -- a clean message, byte for byte
    my @lines = ('Plain text.', '.a line that starts with a dot', '.', '..two dots',
      "trailing blanks  \t ", "8 bit: \xe9\xe8\xff\x80", 'x' x 990, '', 'From me, not a header', 'the end');
    my $want = join("\r\n", @lines) . "\r\n";
    my $wire_body = join("\r\n", map { /^\./ ? ".$_" : $_ } @lines) . "\r\n";
    my $header = "From: sender\@other.test\r\nTo: alice\@example.org\r\nSubject: byte-exact ($order)\r\n"
      . "Message-ID: <chain-e2e-$order\@other.test>\r\n\r\n";
    my $wire = $header . $wire_body . ".\r\n";
    $c = smtp_connect($s->ip, $s->port, local_ip => $c{sender}, timeout => 15);
    like(($c->read_reply(10))[1], qr/^220 mx\.example\.org ESMTP Exim /, 'clean message: exim greets (through rcptchecks)');
    like($c->cmd('EHLO client.test'), qr/^250[ -]/, 'clean message: EHLO');
    like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, 'clean message: MAIL');
    like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'clean message: RCPT');
    like($c->cmd('DATA'), qr/^354 /, 'clean message: DATA');
    $c->send($wire, 15);
    my ($dcode, $dtext) = $c->read_reply(20);
    is($dcode, 250, 'clean message: accepted') or diag $dtext;
    like($c->cmd('QUIT'), qr/^221 /, 'clean message: QUIT');
    $c->close;
    my @msgs = $mta->wait_messages(2, 20);
    is(scalar @msgs, 2, 'two messages delivered: the relayed one and the clean one');
    my %body = map { my $m = slurp($_); ($m =~ /^Message-ID: <chain-e2e-\Q$order\E\@other\.test>\r$/mi ? 'clean' : 'relayed')
      => (split /\r\n\r\n/, $m, 2)[1] } @msgs;
    ok(defined $body{clean} && $body{clean} eq $want, 'clean message: the body arrived byte for byte')
      or diag explain [$body{clean}, $want];
    like($body{relayed} // '', qr/^relayed through the \Q$order\E chain\r$/m, 'the relayed message arrived');
    wait_end($s, $c{sender}, 'the clean message\'s session');
    $pid = conn_pid($s, $c{sender});
    like(lines_of($s, 'rcptchecks', $c{sender}),
      qr/^rcptchecks: info: pid $pid ip \Q$c{sender}\E helo=<[^>]*> from=<[^>]*> rcpts=1 forwarded=1 unknown=0 refused=0 tempfail=0 messages=1 databytes=${\ length $wire} result=quit$/m,
      'clean message: rcptchecks counted the bytes as sent');
    like(lines_of($s, 'rblenv', $c{sender}), qr/^rblenv: info: pid $pid ip \Q$c{sender}\E zone=\Q$ZONE\E:nx,\d+ms score=0 result=clean elapsed=\d+$/m,
      'clean message: rblenv: clean');
    like(lines_of($s, 'relaydb-check', $c{sender}), qr/ result=unknown$/, 'clean message: relaydb-check: unknown');

    # -- nothing left behind
    wait_until(15, sub { !leftovers([$s, $pop], $mta->argv->[2], $db->cnf) }, "$order: no process of the chain is left")
      or diag join "\n", leftovers([$s, $pop], $mta->argv->[2], $db->cnf);
    unlike($s->log_text, qr/fatal|panic|Segmentation|ERROR: AddressSanitizer/i, "$order: no fatal error in the log")
      or diag $s->log_text;
    $s->stop;
  };
}

like($pop->log_text, qr/^relaydb-rec: info: /m, 'the POP chain logged');
unlike($pop->log_text, qr/warning|fatal/, 'the POP chain logged no warning');
$pop->stop;
wait_until(10, sub { !leftovers([], $db->cnf) }, 'nothing is left of the POP chain')
  or diag join "\n", leftovers([], $db->cnf);
done_testing;

#!/usr/bin/perl
# examples/ under the real daemontools: every script passes sh -n and
# examples/tcp.smtp compiles with tcprules; then a copy of
# examples/service/smtpd (run and log/run), with only its block of
# settings rewritten, runs under svscan and supervise on a loopback
# address: the whole chain (tcpserver -x rules, relaydb-check, rblenv,
# rblsmtpd, smtp-delay, rcptchecks, exim4 -bs in place of qmail-smtpd)
# delivers a clean message byte-identical, refuses an unknown recipient
# with 550 and a client listed in the DNSBL (a local tinydns) through
# rblsmtpd, relays for a client in the relay store, and multilog keeps
# every program's log lines with TAI64N stamps. The chain runs as
# Debian-exim and ends in exim4-smtpd: exim's Received line names the
# client, its panic log stays empty. A second copy with IMPLICITTLS=yes
# takes mail with implicit TLS (swaks --tlsc) and refuses a listed
# client inside TLS. A copy of examples/service/smtpd-screen (smtp-screen
# in tcpserver's place, no smtp-delay, no rblenv) runs in the same scan directory:
# a clean message is delivered after the teaser with one greeting, an
# early talker is refused by smtp-screen before any fork, a listed
# client by rblsmtpd, a client over PERCLIENT gets 421 4.7.0, and its
# log keeps smtp-screen's lines. svc -dx and the end of svscan stop
# everything.
#
# Nothing outside temporary directories is touched; everything binds
# to 127.0.0.0/8.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use File::Path qw(make_path);
use File::Copy qw(copy);
use POSIX qw(:sys_wait_h);
use lib 't/lib';
use MXTest;
use MXRun;
use MXService;

my $top = top();
my $ex = "$top/examples";

# ---------------------------------------------------------------------------
# the files themselves

my @daemontools = map { "/usr/bin/$_" } qw(svscan supervise svc svstat multilog setuidgid);
my @missing = grep { !-x } @daemontools;
ok(!@missing, 'daemontools is installed (svscan, supervise, svc, svstat, multilog, setuidgid)')
  or diag "missing: @missing (package daemontools, package/debs)";

for my $f (qw(service/smtpd/run service/smtpd/log/run service/smtpd/exim4-smtpd service/pop3d/run service/pop3d/log/run
  service/smtpd-screen/run service/smtpd-screen/log/run
  service/smtpd-forward/run service/smtpd-forward/log/run service/smtpd-balanced/run service/smtpd-balanced/log/run
  dovecot/relaydb-postlogin)) {
  ok(-x "$ex/$f", "examples/$f is executable");
  my ($rc, $out, $err) = run_cmd(argv => ['/bin/sh', '-n', "$ex/$f"], timeout => 10);
  is($rc, 0, "sh -n examples/$f") or diag $err;
}
for my $f (qw(README crontab tcp.smtp)) {
  ok(-s "$ex/$f", "examples/$f is there");
}
like(slurp("$ex/crontab") // '', qr/^15 3 \* \* \*\s+relaydb expire 1440$/m, 'crontab: the nightly relaydb expire');

my $work = tmpdir();
ok(eval { make_cdb(rules => slurp("$ex/tcp.smtp"), "$work/example.cdb") }, 'examples/tcp.smtp compiles with tcprules') or diag $@;

if (@missing) {
  done_testing;
  exit;
}

# ---------------------------------------------------------------------------
# the parts around the service: DNS, rules, recipients, relay store, MTA

my $ip = loopback_ip();
my $port = free_port($ip);
my $good = loopback_ip();    # a named client, in no list
my $bad = loopback_ip();     # a named client in bl.mxguard.test
my $relay = loopback_ip();   # a client that logged in by POP
my $fast = loopback_ip();    # a client with SMTPDELAY="0" in the rules
sub rev { join '.', reverse split /\./, $_[0] }

my $listing = 'Listed in bl.mxguard.test for a test';
my $dns = start_tinydns(data => join '', map { "$_\n" } '.127.in-addr.arpa::', '.mxguard.test::',
  "=good.mxguard.test:$good", "=bad.mxguard.test:$bad", "=relay.mxguard.test:$relay",
  "=fast.mxguard.test:$fast",
  '+' . rev($bad) . '.bl.mxguard.test:127.0.0.2', "'" . rev($bad) . ".bl.mxguard.test:$listing");

make_cdb(rules => "$fast:allow,SMTPDELAY=\"0\"\n:allow\n", "$work/tcp.smtp.cdb");
make_cdb(recipients => "example.org\npostmaster\@example.org\nalice\@example.org\n", "$work/recipients.cdb");
my $store = "$work/relaydb";
mkdir $store or die "$store: $!";
my $mta = exim_child();

# ---------------------------------------------------------------------------
# the service directory: copies, with the settings rewritten

make_path("$work/control");
my ($tlscert, $tlskey) = make_cert($work, 'mx.mxguard.test');
# the chain runs as Debian-exim, a user exim trusts: it must reach the
# rules, the recipients, the relay store and the key
my ($eximuid, $eximgid) = (getpwnam 'Debian-exim')[2, 3];
chmod 0711, $work or die "chmod $work: $!";
chown $eximuid, $eximgid, $tlskey or die "chown $tlskey: $!";
{ open my $me, '>', "$work/control/me" or die; print {$me} "example.org\n"; close $me }
my $sv = "$work/service";
my $svc = "$sv/smtpd";
make_path("$svc/log");
my $built = join ':', map { "$top/$_" } qw(relaydb rblenv smtp-delay smtp-tls rcptchecks);
my %settings = (
  PATH => "$built:/usr/sbin:/usr/bin:/sbin:/bin",
  IP => $ip, PORT => $port, LOCALNAME => 'mx.mxguard.test',
  SMTPUID => $eximuid, SMTPGID => $eximgid,
  RULES => "$work/tcp.smtp.cdb",
  RELAYSTORE => $store,
  BLOCKLISTS => 'bl.mxguard.test=127.0.0.[2..11]*3',
  ALLOWLISTS => 'wl.mxguard.test*-5',
  DNSCACHEIP => $dns->ip,
  RECIPIENTS => "$work/recipients.cdb",
  QMAILCONTROL => "$work/control",
  TLSCERT => $tlscert, TLSKEY => $tlskey,
  SMTPD => './exim4-smtpd -C ' . $mta->argv->[2] . ' -odi');
install_script('service/smtpd/run', "$svc/run", %settings);
install_script('service/smtpd/log/run', "$svc/log/run",
  PATH => '/usr/bin:/bin', LOGUSER => scalar getpwuid($<));
# the same directory again as the implicit TLS service (port 465's)
my $tlsport = free_port($ip);
my $svcs = "$sv/smtps";
make_path("$svcs/log");
install_script('service/smtpd/run', "$svcs/run", %settings, PORT => $tlsport, IMPLICITTLS => 'yes');
install_script('service/smtpd/log/run', "$svcs/log/run",
  PATH => '/usr/bin:/bin', LOGUSER => scalar getpwuid($<));
# examples/service/smtpd-screen: smtp-screen in front, its own port
my $scrport = free_port($ip);
my $svsc = "$sv/smtpd-screen";
make_path("$svsc/log");
install_script('service/smtpd-screen/run', "$svsc/run",
  (map { $_ => $settings{$_} } qw(IP LOCALNAME SMTPUID SMTPGID RULES RELAYSTORE BLOCKLISTS ALLOWLISTS DNSCACHEIP
    RECIPIENTS QMAILCONTROL TLSCERT TLSKEY SMTPD)),
  PATH => "$top/smtp-screen:$settings{PATH}", PORT => $scrport, WAIT => 1, PERCLIENT => 2);
install_script('service/smtpd-screen/log/run', "$svsc/log/run",
  PATH => '/usr/bin:/bin', LOGUSER => scalar getpwuid($<));
for my $dir ($svc, $svcs, $svsc) {
  copy("$ex/service/smtpd/exim4-smtpd", "$dir/exim4-smtpd") or die "copy exim4-smtpd: $!";
  chmod 0755, "$dir/exim4-smtpd";
}

# ---------------------------------------------------------------------------
# svscan

my $svscan = start_cmd(argv => ['/usr/bin/svscan', $sv], env => { PATH => '/usr/bin:/bin' }, timeout => 60);
my $up = wait_until(15, sub {
  my $s = IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, LocalHost => $good, Timeout => 1);
  return $s ? 1 : 0;
}, "the service listens on $ip port $port");

my $current = "$svc/log/main/current";
SKIP: {
  skip 'the service did not start', 20 unless $up;

  my ($rc, $out);
  my ($first, $said) = service_up($svc, 5);
  ok(@$first, 'svstat: the service and its log are up') or diag $said;

  # swaks appends "\r\n." itself: the body ends without a line end
  my $body = join "\r\n", 'through the service directory', '.a leading dot',
    'x' x 900, join('', map { chr } 0x80 .. 0xff) . " \t8-bit, tab, trailing space ", 'last line';
  my $message = "From: sender\@other.test\r\nTo: alice\@example.org\r\nSubject: service\r\n\r\n$body";
  ($rc, $out) = swaks(ip => $ip, port => $port, data => $message, timeout => 20,
    opts => ['--local-interface', $good, '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '10']);
  is($rc, 0, 'a clean message to a known recipient is accepted') or diag $out;
  my ($file) = $mta->wait_messages(1, 10);
  my ($got) = $mta->message_bodies;
  ok(defined $got && $got eq "$body\r\n", '... and delivered byte-identical')
    or diag 'got: ' . ($got // 'nothing');

  # exim4-smtpd told exim who the client is
  my $received = $mta->received($file) // '';
  like($received, qr/^Received: from good\.mxguard\.test\s+\(\[\Q$good\E\] helo=\S+\)\s+by mx\.example\.org with esmtp /,
    "exim's Received line names the client ($good), its name and its HELO") or diag $received;

  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $fast, '--to', 'nobody@example.org', '--timeout', '10']);
  like($out, qr/^<\*\* 550 5\.1\.1 <nobody\@example\.org>/m, 'an unknown recipient is refused with 550 by rcptchecks')
    or diag $out;
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $fast, '--tls', '--to', 'nobody4@example.org', '--timeout', '10']);
  like($out, qr/^<~\* 550 5\.1\.1 <nobody4\@example\.org>/m, 'STARTTLS through the service: rcptchecks still refuses inside TLS')
    or diag $out;
  # qmail's control/me gives rcptchecks -q and -L: a bare local part and
  # a literal of the host are checked at that name
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $fast, '--to', 'nobody2', '--timeout', '10']);
  like($out, qr/^<\*\* 550 5\.1\.1 <nobody2\@example\.org>/m, 'a bare local part is checked at control/me')
    or diag $out;
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $fast, '--to', 'nobody3@[127.0.0.1]', '--timeout', '10']);
  like($out, qr/^<\*\* 550 5\.1\.1 <nobody3\@example\.org>/m, '... and so is a literal')
    or diag $out;

  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $bad, '--to', 'alice@example.org', '--timeout', '10']);
  like($out, qr/^<\*\* 451 \Q$listing\E/m, 'a client in the DNSBL is refused by rblsmtpd with its TXT text')
    or diag $out;
  unlike($out, qr/Exim/, '... and never reaches the server');

  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $fast, '--to', 'someone@elsewhere.test', '--timeout', '10']);
  like($out, qr/^<\*\* 550 relay not permitted/m, 'relaying is refused to a client not in the relay store')
    or diag $out;
  ($rc, $out, my $err) = run_cmd(argv => ["$top/relaydb/relaydb", "-d", $store, "add", $relay], timeout => 10);
  is($rc, 0, "relaydb add $relay (as relaydb-rec would after a POP login)") or diag $err;
  ($rc, $out) = swaks(ip => $ip, port => $port, timeout => 20,
    opts => ['--local-interface', $relay, '--to', 'someone@elsewhere.test', '--timeout', '10']);
  is($rc, 0, '... then that client relays') or diag $out;
  $mta->wait_messages(2, 10);

  # the implicit TLS copy (IMPLICITTLS=yes)
  ok(wait_until(15, sub { IO::Socket::IP->new(PeerHost => $ip, PeerPort => $tlsport, LocalHost => $good, Timeout => 1) },
    "the implicit TLS service listens on port $tlsport"), 'the implicit TLS copy is up');
  # (30 s: under load a name lookup that times out makes the client
  # class none, smtp-delay's 12 s wait, behind the handshake)
  ($rc, $out) = swaks(ip => $ip, port => $tlsport, timeout => 40,
    opts => ['--local-interface', $good, '--tlsc', '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '30']);
  is($rc, 0, 'implicit TLS: swaks --tlsc delivers through the copy with IMPLICITTLS=yes') or diag $out;
  like($out, qr/^<~  220 /m, '... the greeting inside TLS');
  ($rc, $out) = swaks(ip => $ip, port => $tlsport, timeout => 40,
    opts => ['--local-interface', $bad, '--tlsc', '--to', 'alice@example.org', '--timeout', '30']);
  like($out, qr/^<~\* 451 \Q$listing\E/m, '... and a listed client is refused by rblsmtpd inside TLS') or diag $out;
  my @all = $mta->wait_messages(3, 10);
  is(scalar(grep { ($mta->received($_) // '') =~ /^Received: from \S+\s+\(\[[\d.]+\] helo=/ } @all), scalar @all,
    "every delivered message's Received line names its client") or diag join '', map { $mta->received($_) // '' } @all;
  is($mta->panic_text, '', "exim's panic log is empty");

  # the smtp-screen copy: the teaser, WAIT=1, then the chain's 220
  ok(wait_until(15, sub { IO::Socket::IP->new(PeerHost => $ip, PeerPort => $scrport, LocalHost => $relay, Timeout => 1) },
    "the smtp-screen service listens on port $scrport"), 'the smtp-screen copy is up');
  ($rc, $out) = swaks(ip => $ip, port => $scrport, timeout => 20,
    opts => ['--local-interface', $good, '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '10']);
  is($rc, 0, 'smtp-screen in front: a clean message is delivered') or diag $out;
  like($out, qr/^<-  220-mx\.mxguard\.test\r?\n<-  220 /m, "... after smtp-screen's teaser, the server's 220 ending the greeting")
    or diag $out;
  is(scalar(() = $out =~ /^<-  220 /mg), 1, '... one greeting') or diag $out;
  my @four = $mta->wait_messages(4, 10);
  my @from_good = grep { /\[\Q$good\E\]/ } map { $mta->received($_) // '' } @four;
  ok(@from_good && !grep({ !/^Received: from \S+\s+\(\[\Q$good\E\] helo=/ } @from_good),
    "... its Received line names the client ($good) by the name smtp-screen confirmed, as tcpserver's does") or diag join '', @from_good;
  # an early talker: not $fast, whose rule (SMTPDELAY="0") takes its
  # wait away, in smtp-screen as in smtp-delay
  my $talker = loopback_ip();
  my $early = smtp_connect($ip, $scrport, timeout => 10, local_ip => $talker);
  $early->send("EHLO early\r\nMAIL FROM:<a\@b.test>\r\n");
  my ($early_said) = $early->read_all(5);
  like($early_said, qr/^451 4\.7\.1 /m, 'an early talker is refused by smtp-screen (451 4.7.1)') or diag $early_said;
  unlike($early_said, qr/Exim/, '... and never reaches the server');
  $early->close;
  ($rc, $out) = swaks(ip => $ip, port => $scrport, timeout => 20,
    opts => ['--local-interface', $bad, '--to', 'alice@example.org', '--timeout', '10']);
  like($out, qr/^<\*\* 451 \Q$listing\E/m, 'a listed client is refused by rblsmtpd behind smtp-screen') or diag $out;
  # PERCLIENT=2: two connections held from one address, the third refused
  my @held = map { smtp_connect($ip, $scrport, timeout => 10, local_ip => $relay) } 1 .. 2;
  $_->read_all(0.5) for @held;    # the teasers: both are held
  my $third = smtp_connect($ip, $scrport, timeout => 10, local_ip => $relay);
  my ($third_said) = $third->read_all(5);
  like($third_said, qr/^421 4\.7\.0 /m, 'PERCLIENT=2: a third connection from one address gets 421 4.7.0') or diag $third_said;
  $_->close for @held, $third;
  my $scrlog = "$svsc/log/main/current";
  my $tai = qr/\@[0-9a-f]{24} /;
  my %scrwant = (
    'a pass'          => qr/^$tai\Qsmtp-screen: info: pid \E\d+ ip \Q$good\E .*result=pass child=\d+/m,
    'an early talker' => qr/^$tai\Qsmtp-screen: info: pid \E\d+ ip \Q$talker\E .*pregreet=fail .*result=refused/m,
    'a limit'         => qr/^$tai\Qsmtp-screen: info: pid \E\d+ ip \Q$relay\E .*result=limit limit=conn/m,
    'rblsmtpd'        => qr/^${tai}rblsmtpd: \Q$bad\E pid \d+: 451 \Q$listing\E/m,
  );
  wait_until(10, sub { my $l = slurp($scrlog) // ''; !grep { $l !~ $_ } values %scrwant }, 'the smtp-screen service log lines');
  my $sl = slurp($scrlog) // '';
  like($sl, $scrwant{$_}, "smtpd-screen/log/main/current: $_") for sort keys %scrwant;
  unlike($sl, qr/^${tai}smtp-delay:/m, '... and no smtp-delay in that chain');
  unlike($sl, qr/^${tai}rblenv:/m, '... nor rblenv: smtp-screen asked the blocklist');
  like($sl, qr/^$tai\Qsmtp-screen: info: pid \E\d+ ip \Q$bad\E .*dnsbl=refused /m, "... the listed client's verdict in smtp-screen's line");

  my ($pids, $said_now) = service_up($svc);
  ok(@$first && "@$pids" eq "@$first", 'svstat: neither was restarted meanwhile') or diag $said_now;

  # multilog: every line stamped, a line of each link
  my $stamp = qr/\@[0-9a-f]{24} /;
  my %want = (
    'tcpserver'            => qr/^$stamp\Qtcpserver: ok \E\d+ .*::ffff:\Q$bad\E:/m,
    'relaydb-check relays' => qr/^${stamp}relaydb-check: info: pid \d+ ip \Q$relay\E .*result=relay$/m,
    'rblenv refuses'       => qr/^${stamp}rblenv: info: pid \d+ ip \Q$bad\E .*result=refused/m,
    'rblsmtpd refuses'     => qr/^${stamp}rblsmtpd: \Q$bad\E pid \d+: 451 \Q$listing\E/m,
    'smtp-delay'           => qr/^${stamp}smtp-delay: info: pid \d+ ip \Q$good\E class=named .*result=pass/m,
    'rcptchecks refuses'   => qr/^${stamp}rcptchecks: info: pid \d+ ip \Q$fast\E .*nobody\@example\.org.*result=unknown/m,
  );
  wait_until(10, sub { my $log = slurp($current) // ''; !grep { $log !~ $_ } values %want }, 'the log lines in log/main/current');
  my $log = slurp($current) // '';
  note "log/main/current:\n$log";
  like($log, $want{$_}, "log/main/current: $_") for sort keys %want;
  my @unstamped = grep { !/^$stamp/ } split /\n/, $log;
  ok(!@unstamped, 'every line of the log carries a TAI64N stamp') or diag join "\n", @unstamped;
}

# ---------------------------------------------------------------------------
# stop

my $said = stop_services($svscan, $sv, $ip, $port, $svc, "$svc/log", $svcs, "$svcs/log", $svsc, "$svsc/log");
diag "svscan said: $said\nlog/main/current:\n" . (slurp($current) // '(none)') unless $up;

done_testing;

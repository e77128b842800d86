#!/usr/bin/perl
# examples/service/pop3d under the real daemontools: a copy of its run
# and log/run, with only their blocks of settings rewritten, runs under
# svscan and supervise on a loopback address. The chain is the one of a
# qmail host, tcpserver -> qmail-popup -> checkpassword -> relaydb-rec ->
# qmail-pop3d, with the real tcpserver and relaydb-rec and, as qmail is
# not packaged in Debian, stand-ins with the real interfaces for the
# others (t/bin/qmail-popup, t/bin/checkpassword, t/bin/pop3d-stub as
# qmail-pop3d). A POP3 client gets qmail-popup's greeting; a bad password
# is refused and records nothing; a good login reaches qmail-pop3d (with
# the run script's arguments, in the user's home) and leaves the
# client's address in the relay store with the time of the login;
# relaydb-rec's log line reaches multilog with a TAI64N stamp; then
# relaydb-check with the same store lets that client relay and no other
# (POP-before-SMTP end to end). svc -dx and the end of svscan stop
# everything.
#
# Nothing outside temporary directories is touched; everything binds
# to 127.0.0.0/8.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use File::Path qw(make_path);
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;
use MXRun;
use MXService;

my $top = top();

my @missing = grep { !-x } map { "/usr/bin/$_" } qw(svscan supervise svc svstat multilog setuidgid tcpserver);
plan skip_all => "not installed: @missing (packages daemontools, ucspi-tcp-ipv6)" if @missing;

# ---------------------------------------------------------------------------
# the parts around the service: a DNS server for tcpserver's lookups,
# the relay store, the user's home, the programs on the run script's PATH

my $work = tmpdir();
my $ip = loopback_ip();
my $port = free_port($ip);
my $roamer = loopback_ip();   # the client that logs in
my $other = loopback_ip();    # a client that never does
my $dns = start_tinydns(data => ".127.in-addr.arpa::\n");
my $store = "$work/relaydb";
my $home = "$work/home/roamer";
my $bin = "$work/bin";
make_path($store, "$home/Maildir", $bin);
symlink("$top/t/bin/qmail-popup", "$bin/qmail-popup") or die "symlink: $!";
symlink("$top/t/bin/pop3d-stub", "$bin/qmail-pop3d") or die "symlink: $!";

sub store_dump {
  my ($rc, $out, $err) = run_cmd(argv => ["$top/relaydb/relaydb", '-d', $store, 'dump'], timeout => 10);
  return $rc ? "error $rc: $err" : $out;
}

# ---------------------------------------------------------------------------
# the service directory: copies, with the settings rewritten

my $sv = "$work/service";
my $svc = "$sv/pop3d";
make_path("$svc/log");
install_script('service/pop3d/run', "$svc/run",
  PATH => "$bin:$top/relaydb:/usr/bin:/bin",
  IP => $ip, PORT => $port, LOCALNAME => 'pop.mxguard.test',
  CHECKPASSWORD => "$top/t/bin/checkpassword",
  RELAYSTORE => $store);
install_script('service/pop3d/log/run', "$svc/log/run",
  PATH => '/usr/bin:/bin', LOGUSER => scalar getpwuid($<));

# ---------------------------------------------------------------------------
# svscan; the environment reaches the run script through supervise

my $svscan = start_cmd(argv => ['/usr/bin/svscan', $sv], timeout => 60,
  env => { PATH => '/usr/bin:/bin', DNSCACHEIP => $dns->ip, CHECKPW_HOME => $home });
my $up = wait_until(15, sub {
  IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, LocalHost => $other, Timeout => 1) ? 1 : 0;
}, "the service listens on $ip port $port");

# a POP3 session from $from: sends each line after reading one reply
sub pop3 {
  my ($from, @lines) = @_;
  my $c = smtp_connect($ip, $port, local_ip => $from, timeout => 10);
  my @said = ($c->read_line // '(nothing)');
  for my $l (@lines) { $c->sendline($l); push @said, $c->read_line // '(nothing)' }
  return ($c, @said);
}

# the processes whose command line holds @argv, as "cwd argv..."
sub running {
  my $want = join "\0", @_;
  my @found;
  for my $p (grep { m{^/proc/\d+$} } glob '/proc/*') {
    my $cmd = slurp("$p/cmdline") // next;
    push @found, join " ", readlink("$p/cwd") // "?", split /\0/, $cmd if index($cmd, "$want\0") >= 0;
  }
  return @found;
}

my $current = "$svc/log/main/current";
SKIP: {
  skip q(the service did not start), 19 unless $up;

  my ($pids, $said) = service_up($svc, 5);
  ok(@$pids, 'svstat: the service and its log are up') or diag $said;

  my ($c, @said) = pop3($roamer, 'USER roamer', 'PASS wrong');
  like($said[0], qr/^\+OK <\d+\.\d+\@pop\.mxguard\.test>\r\n\z/, 'qmail-popup greets with its timestamp');
  is($said[1], "+OK \r\n", 'USER is taken');
  is($said[2], "-ERR authorization failed\r\n", 'a bad password: checkpassword fails, qmail-popup says -ERR');
  ok($c->is_closed(5), '... and closes the connection, as qmail-popup does');
  is(store_dump(), '', '... and nothing is in the relay store');

  ($c, @said) = pop3($roamer, 'USER roamer', 'PASS secret');
  my $when = time;
  is($said[2], "+OK maildrop of roamer ready\r\n", 'a good login reaches qmail-pop3d');
  my @pop3d = running("$bin/qmail-pop3d", './Maildir/');
  is("@pop3d", "$home /usr/bin/perl $bin/qmail-pop3d ./Maildir/",
    '... run as "qmail-pop3d ./Maildir/" in the home directory checkpassword chose');
  $c->sendline('QUIT');
  is($c->read_line, "+OK bye\r\n", '... which ends the session');
  $c->close;

  my $dump;
  wait_until(5, sub { ($dump = store_dump()) =~ /\S/ }, 'an entry in the relay store');
  my ($ts) = $dump =~ /\A\Q$roamer\E (\d+)\n\z/;
  ok($ts, "the relay store holds the client's address, and only that") or diag $dump;
  ok($ts && abs($ts - $when) <= 5, '... with the time of the login') or diag(($ts // "no entry") . ", now $when");

  # multilog: every line stamped; relaydb-rec's line with the store's time
  my $stamp = qr/\@[0-9a-f]{24} /;
  my $rec = qr/^${stamp}relaydb-rec: info: pid \d+ ip \Q$roamer\E store=dir ts=(\d+) result=recorded$/m;
  wait_until(10, sub { (slurp($current) // '') =~ $rec }, "relaydb-rec's line in log/main/current");
  my $log = slurp($current) // '';
  note "log/main/current:\n$log";
  like($log, $rec, "log/main/current: relaydb-rec's line with a TAI64N stamp");
  is(($log =~ $rec)[0], $ts, '... and the timestamp that is in the store');
  like($log, qr/^${stamp}tcpserver: ok \d+ .*:\Q$roamer\E:/m, 'log/main/current: tcpserver');
  my @unstamped = grep { !/^$stamp/ } split /\n/, $log;
  ok(!@unstamped, 'every line of the log carries a TAI64N stamp') or diag join "\n", @unstamped;
  my @other = grep { !/^${stamp}(?:tcpserver: |relaydb-rec: info: )/ } split /\n/, $log;
  ok(!@other, 'no other lines: no error or warning from the chain') or diag join "\n", @other;

  # POP-before-SMTP: the SMTP side's relaydb-check, with the same store
  my $smtp = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
    argv => ["$top/relaydb/relaydb-check", '-d', $store, "$top/t/bin/show-relayclient"]);
  for ([$roamer, "RELAYCLIENT=[] ip=$roamer\n", 'relaydb-check lets the client that logged in relay'],
       [$other, "RELAYCLIENT unset ip=$other\n", '... and no other']) {
    my ($from, $want, $name) = @$_;
    my $s = smtp_connect($smtp->ip, $smtp->port, local_ip => $from, timeout => 10);
    is($s->read_line, $want, $name);
  }
  $smtp->stop;

  ($pids, $said) = service_up($svc);
  ok(@$pids, 'svstat: both still up') or diag $said;
}

# ---------------------------------------------------------------------------
# stop

my $said = stop_services($svscan, $sv, $ip, $port, $svc, "$svc/log");
diag "svscan said: $said\nlog/main/current:\n" . (slurp($current) // '(none)') unless $up;

done_testing;

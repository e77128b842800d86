#!/usr/bin/perl
# POP-before-SMTP end to end under the real tcpserver: a client logs in
# through "tcpserver pop-login relaydb-rec pop3d-stub" (pop-login stands
# in for qmail-popup + checkpassword), then relaydb-check under tcpserver
# sets RELAYCLIENT for that client's address and not for another; the
# expiry window is honoured; IPv6 works; a store that cannot be written
# never costs the user the login; an entry that is not a regular file (a
# FIFO) fails closed at once. Both stores.
use strict;
use warnings;
use Test::More;
use Fcntl qw(O_RDWR);
use IO::Socket::IP;
use POSIX ();
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/relaydb";
my $pop_login = "$top/t/bin/pop-login";
my $pop3d = "$top/t/bin/pop3d-stub";
my $show = "$top/t/bin/show-relayclient";

# connects from $src (a loopback address of our choosing, so that the
# server sees a client IP we know) and returns the socket
sub connect_from {
  my ($server, $src) = @_;
  my $s = IO::Socket::IP->new(PeerHost => $server->ip, PeerPort => $server->port,
    (defined $src ? (LocalHost => $src) : ()), Timeout => 5)
    or die "connect to " . $server->ip . ": $@";
  return $s;
}

sub getline_bounded {
  my ($s, $timeout) = @_;
  my $line = '';
  my $deadline = time + ($timeout // 5);
  while (time < $deadline) {
    my $rin = ''; vec($rin, fileno $s, 1) = 1;
    select(my $rout = $rin, undef, undef, 0.05) or next;
    my $n = sysread($s, my $c, 1);
    return $line unless $n;
    $line .= $c;
    return $line if $c eq "\n";
  }
  return $line;
}

# a whole POP login; returns what the maildrop program said (or the error)
sub pop_login {
  my ($server, $src, $pass) = @_;
  my $s = connect_from($server, $src);
  my @said = (getline_bounded($s));
  for ("USER alice\r\n", "PASS $pass\r\n") {
    syswrite $s, $_;
    push @said, getline_bounded($s);
  }
  push @said, getline_bounded($s) if $said[-1] =~ /^\+OK\r?\n$/;   # greeting of the maildrop
  syswrite $s, "QUIT\r\n";
  push @said, getline_bounded($s);
  close $s;
  return join '', @said;
}

# what relaydb-check told the end of the SMTP chain
sub smtp_verdict {
  my ($server, $src) = @_;
  my $s = connect_from($server, $src);
  my $l = getline_bounded($s);
  close $s;
  return $l;
}

sub chain_tests {
  my ($name, $storeopts, %o) = @_;
  my $ip_pop = loopback_ip();
  my $pop = start_tcpserver(ip => $ip_pop, opts => ['-R', '-H', '-l0'],
    argv => [$pop_login, "$bin/relaydb-rec", @$storeopts, $pop3d]);
  my $smtp = start_tcpserver(ip => $ip_pop, opts => ['-R', '-H', '-l0'],
    argv => ["$bin/relaydb-check", @$storeopts, '-m', '30', $show]);
  my $smtp40 = start_tcpserver(ip => $ip_pop, opts => ['-R', '-H', '-l0'],
    argv => ["$bin/relaydb-check", @$storeopts, '-m', '40', '-r', '@relay', $show]);

  my ($alice, $bob, $carol) = (loopback_ip(), loopback_ip(), loopback_ip());
  like(smtp_verdict($smtp, $alice), qr/^RELAYCLIENT unset ip=\Q$alice\E/, "$name: before login, no relaying");
  like(pop_login($pop, $bob, 'wrong'), qr/-ERR authorization failed/, "$name: failed login");
  like(smtp_verdict($smtp, $bob), qr/^RELAYCLIENT unset/, "$name: a failed login records nothing");
  like(pop_login($pop, $alice, 'secret'), qr/\+OK maildrop of alice ready/, "$name: POP login served");
  like(smtp_verdict($smtp, $alice), qr/^RELAYCLIENT=\[\] ip=\Q$alice\E/, "$name: relaydb-check sets RELAYCLIENT for the POP client");
  like(smtp_verdict($smtp, $carol), qr/^RELAYCLIENT unset ip=\Q$carol\E/, "$name: ... and not for another address");
  like($pop->log_text, qr/relaydb-rec: info: pid \d+ ip \Q$alice\E store=\w+ ts=\d+ result=recorded/, "$name: relaydb-rec logged the record");
  like($smtp->log_text, qr/relaydb-check: info: pid \d+ ip \Q$alice\E store=\w+ age=\d+ window=1800 result=relay/, "$name: relaydb-check logged the relay decision");

  # the window: recorded 35 minutes ago
  my ($rc, undef, $err) = run_cmd(argv => ["$bin/relaydb", @$storeopts, 'add', $carol, int(time) - 35 * 60]);
  is($rc, 0, "$name: backdate an entry") or diag $err;
  like(smtp_verdict($smtp40, $carol), qr/^RELAYCLIENT=\[\@relay\]/, "$name: -m 40 relays a 35-minute-old entry (with -r value)");
  like(smtp_verdict($smtp, $carol), qr/^RELAYCLIENT unset/, "$name: -m 30 does not");
  like($smtp->log_text, qr/ip \Q$carol\E store=\w+ age=\d+ window=1800 result=expired/, "$name: logged as expired");
  my (undef, $dump) = run_cmd(argv => ["$bin/relaydb", @$storeopts, 'dump']);
  unlike($dump, qr/^\Q$carol\E /m, "$name: the expired entry was removed on the way");

  # a client already trusted by tcprules keeps its RELAYCLIENT
  my $trusted = start_tcpserver(ip => $ip_pop, opts => ['-R', '-H', '-l0'],
    argv => ['/usr/bin/env', 'RELAYCLIENT=from-tcprules', "$bin/relaydb-check", @$storeopts, $show]);
  like(smtp_verdict($trusted, $carol), qr/^RELAYCLIENT=\[from-tcprules\]/, "$name: an existing RELAYCLIENT is never overwritten");
  $trusted->stop;

  # IPv6
  SKIP: {
    skip 'no ::1 on this machine', 3 unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
    my $pop6 = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'],
      argv => [$pop_login, "$bin/relaydb-rec", @$storeopts, $pop3d]);
    my $smtp6 = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'],
      argv => ["$bin/relaydb-check", @$storeopts, $show]);
    like(pop_login($pop6, undef, 'secret'), qr/\+OK maildrop/, "$name: IPv6 POP login");
    like(smtp_verdict($smtp6, undef), qr/^RELAYCLIENT=\[\] ip=::1/, "$name: IPv6 client relays");
    my (undef, $d6) = run_cmd(argv => ["$bin/relaydb", @$storeopts, 'dump']);
    like($d6, qr/^::1 \d+$/m, "$name: stored as ::1");
    $pop6->stop; $smtp6->stop;
  }

  $o{broken}->($pop, $smtp) if $o{broken};
  $_->stop for $pop, $smtp, $smtp40;
}

subtest 'directory store' => sub {
  my $dir = tmpdir();
  chain_tests('dir', ['-d', $dir]);

  # unwritable store: the POP service runs as nobody, the store is root's
  my $ip = loopback_ip();
  chmod 0755, $dir;
  my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
  my $pop = start_tcpserver(ip => $ip, opts => ['-R', '-H', '-l0', '-u', $uid, '-g', $gid],
    argv => [$pop_login, "$bin/relaydb-rec", '-d', $dir, $pop3d]);
  my $t0 = time;
  like(pop_login($pop, loopback_ip(), 'secret'), qr/\+OK maildrop of alice ready/, 'unwritable store: the login is still served');
  ok(time - $t0 < 3, 'unwritable store: ... without delay');
  like($pop->log_text, qr/relaydb-rec: warning: pid \d+ ip [\d.]+ store=dir result=error reason=unable to create a file in/, 'unwritable store: logged');
  $pop->stop;
  my $pop2 = start_tcpserver(ip => $ip, opts => ['-R', '-H', '-l0'],
    argv => [$pop_login, "$bin/relaydb-rec", '-d', "$dir/missing", $pop3d]);
  like(pop_login($pop2, loopback_ip(), 'secret'), qr/\+OK maildrop/, 'missing store: the login is still served');
  like($pop2->log_text, qr/result=error reason=unable to open directory/, 'missing store: logged');
  $pop2->stop;

  # an entry that is not a regular file: a FIFO (open would wait for a
  # writer; with one that never writes, read would), a directory, a
  # symlink to a valid entry. relaydb-check answers at once and fails
  # closed, naming the entry.
  {
    my $odd = tmpdir();
    my $smtp = start_tcpserver(ip => $ip, opts => ['-R', '-H', '-l0'],
      argv => ["$bin/relaydb-check", '-d', $odd, $show]);
    my %who = map { $_ => loopback_ip() } qw(fifo held dir link);
    POSIX::mkfifo("$odd/$who{fifo}", 0644) or die "mkfifo: $!";
    POSIX::mkfifo("$odd/$who{held}", 0644) or die "mkfifo: $!";
    sysopen(my $hold, "$odd/$who{held}", O_RDWR) or die "open FIFO: $!";
    mkdir "$odd/$who{dir}" or die "mkdir: $!";
    my $target = tmpdir() . '/entry';
    open my $fh, '>', $target or die; print $fh time . "\n"; close $fh;
    symlink $target, "$odd/$who{link}" or die "symlink: $!";
    for my $kind (qw(fifo held dir link)) {
      my $t0 = time;
      like(smtp_verdict($smtp, $who{$kind}), qr/^RELAYCLIENT unset ip=\Q$who{$kind}\E/, "$kind as the entry: RELAYCLIENT unset");
      ok(time - $t0 < 3, "$kind as the entry: ... at once");
      like($smtp->log_text, qr/^relaydb-check: warning: pid \d+ ip \Q$who{$kind}\E store=dir result=error reason=entry \Q$who{$kind}\E in \Q$odd\E is not a regular file$/m,
        "$kind as the entry: a warning naming the entry");
    }
    close $hold;
    $smtp->stop;
  }

  # full store: a 16 KiB tmpfs filled up
  SKIP: {
    my $full = tmpdir();
    skip 'cannot mount a tmpfs here', 2 unless system("mount -t tmpfs -o size=16k tmpfs '$full' 2>/dev/null") == 0;
    system("dd if=/dev/zero of='$full/fill' bs=1k count=64 2>/dev/null");
    my $pop3 = start_tcpserver(ip => $ip, opts => ['-R', '-H', '-l0'],
      argv => [$pop_login, "$bin/relaydb-rec", '-d', $full, $pop3d]);
    like(pop_login($pop3, loopback_ip(), 'secret'), qr/\+OK maildrop/, 'full store: the login is still served');
    wait_until(5, sub { $pop3->log_text =~ /result=error reason=unable to write to .*No space left/ }, 'full store: logged');
    $pop3->stop;
    system("umount '$full'");
  }
};

subtest 'MariaDB store' => sub {
  my $db = start_mariadb();
  my @store = ('-g', $db->group, '-f', $db->cnf);
  chain_tests('sql', \@store, broken => sub {
    my ($pop, $smtp) = @_;
    my $dave = loopback_ip();
    $db->kill;
    my $t0 = time;
    like(pop_login($pop, $dave, 'secret'), qr/\+OK maildrop/, 'sql: MariaDB down: the login is still served');
    ok(time - $t0 < 3, 'sql: ... without delay');
    like($pop->log_text, qr/relaydb-rec: warning: pid \d+ ip \Q$dave\E store=sql result=error reason=unable to connect/, 'sql: logged');
    like(smtp_verdict($smtp, $dave), qr/^RELAYCLIENT unset/, 'sql: MariaDB down: relaydb-check fails closed');
    like($smtp->log_text, qr/relaydb-check: warning: pid \d+ ip \Q$dave\E store=sql result=error/, 'sql: ... and logs it');
    $db->start;
  });

  # a server that accepts and then never answers: the login waits -t only
  my $ip = loopback_ip();
  my $silent = IO::Socket::IP->new(Listen => 5, LocalHost => $ip, LocalPort => 0) or die $@;
  my $cnf = tmpdir() . '/silent.cnf';
  open my $fh, '>', $cnf or die; print $fh "[silent]\nhost=$ip\nport=" . $silent->sockport . "\nuser=x\npassword=y\n"; close $fh;
  my $pop = start_tcpserver(ip => $ip, opts => ['-R', '-H', '-l0'],
    argv => [$pop_login, "$bin/relaydb-rec", '-g', 'silent', '-f', $cnf, '-T', '4', '-t', '300', $pop3d]);
  my $t0 = time;
  like(pop_login($pop, loopback_ip(), 'secret'), qr/\+OK maildrop/, 'silent SQL server: the login is served');
  my $took = time - $t0;
  # < 3.5: room for a loaded machine, under the store's -T 4 that an
  # ignored -t would wait; the pending line below says -t fired
  ok($took < 3.5, "silent SQL server: the login waited for the store at most -t 300 ms (took ${\ sprintf '%.2f', $took} s)");
  wait_until(10, sub { $pop->log_text =~ /result=pending/ }, 'the pending write is logged');
  $pop->stop;
  $db->stop;
};

# the same decision reaching a real MTA: exim4 -bs relays for a client
# relaydb-check let in, and refuses relaying to everyone else
subtest 'relaying through exim4 -bs with swaks' => sub {
  my $dir = tmpdir();
  my $mta = exim_child();
  my $smtp = start_tcpserver(opts => ['-R', '-H', '-l0'],
    argv => ["$bin/relaydb-check", '-d', $dir, @{ $mta->argv }]);
  my ($roamer, $stranger) = (loopback_ip(), loopback_ip());
  my ($rc, undef, $err) = run_cmd(argv => ["$bin/relaydb", '-d', $dir, 'add', $roamer]);
  is($rc, 0, 'the roaming user\'s address is recorded') or diag $err;
  my ($src, $out) = swaks(server => $smtp, opts => ['--local-interface', $stranger, '--to', 'friend@elsewhere.test', '--from', 'x@example.org']);
  like($out, qr/<\*\* 550 relay not permitted/, 'a stranger may not relay');
  ($src, $out) = swaks(server => $smtp, opts => ['--local-interface', $roamer, '--to', 'friend@elsewhere.test', '--from', 'alice@example.org',
    '--body', 'relayed by mxguard']);
  is($src, 0, 'the roaming user relays') or diag $out;
  my @msgs = $mta->wait_messages(1, 10);
  is(scalar @msgs, 1, 'exactly one message delivered');
  like(join('', $mta->message_bodies), qr/^relayed by mxguard\r$/m, 'the relayed message arrived') if @msgs;
  like($smtp->log_text, qr/relaydb-check: info: pid \d+ ip \Q$roamer\E store=dir age=\d+ window=1800 result=relay/, 'the decision is logged');
  $smtp->stop;
};

done_testing;

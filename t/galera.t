#!/usr/bin/perl
# relaydb's SQL store and rcptchecks' SQL source on a three-node MariaDB
# Galera cluster (t/lib/MXGalera.pm), unchanged: a POP login recorded
# through node 1 lets the client relay through a chain reading node 2 at
# once (wsrep_sync_wait in the option-file group); a recipient added on
# node 3 is accepted by rcptchecks reading node 1; 1,000 concurrent
# relaydb add spread over the nodes, with expire running on another,
# lose and duplicate nothing; a node killed mid-load and rejoined costs
# no client anything but the documented answers and loses no entry; the
# programs fail over to the next group (node1,node2,node3); with every
# node down, the documented fail modes: relaydb-check closed, rcptchecks
# 451, relaydb-rec never holds up the login.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time sleep);
use POSIX ();
use lib 't/lib';
use MXTest;
use MXRun;
use MXGalera;

plan skip_all => 'galera-4 is not installed' unless -e '/usr/lib/galera/libgalera_smm.so';
my $top = top();
my $bin = "$top/relaydb";
my $show = "$top/t/bin/show-relayclient";
my $g = start_galera(nodes => 3);
my $cnf = $g->cnf;
$g->sql(1, <<'SQL');
CREATE TABLE rcptchecks_domains (domain VARBINARY(255) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE rcptchecks_addresses (address VARBINARY(320) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO rcptchecks_domains VALUES ('example.org');
INSERT INTO rcptchecks_addresses VALUES ('alice@example.org');
SQL
{
  # the relay table, made by the first relaydb that writes
  my ($rc, undef, $err) = run_cmd(argv => ["$bin/relaydb", '-g', 'node1', '-f', $cnf, 'add', '192.0.2.1']);
  is($rc, 0, 'relaydb makes its table through node1') or diag $err;
}

sub connect_from {
  my ($server, $src) = @_;
  return IO::Socket::IP->new(PeerHost => $server->ip, PeerPort => $server->port, LocalHost => $src, Timeout => 5)
    || die "connect: $@";
}
sub line_of { my ($s) = @_; $s->timeout(10); my $l = <$s> // ''; return $l }
sub verdict { my ($server, $src) = @_; my $s = connect_from($server, $src); my $l = line_of($s); close $s; return $l }
sub pop_login {
  my ($server, $src, $pass) = @_;
  my $s = connect_from($server, $src);
  my $said = line_of($s);
  for ("USER alice\r\n", "PASS $pass\r\n") { syswrite $s, $_; $said .= line_of($s) }
  $said .= line_of($s) if $said =~ /\+OK\r?\n\z/;
  syswrite $s, "QUIT\r\n";
  $said .= line_of($s);
  close $s;
  return $said;
}

my $pop = start_tcpserver(opts => ['-R', '-H', '-l0'],
  argv => ["$top/t/bin/pop-login", "$bin/relaydb-rec", '-g', 'node1,node2,node3', '-f', $cnf, '-t', '2000', "$top/t/bin/pop3d-stub"]);
my $smtp2 = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
  argv => ["$bin/relaydb-check", '-g', 'node2,node3,node1', '-f', $cnf, '-m', '30', $show]);
my $mta = exim_child();
my $relay = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
  argv => ["$bin/relaydb-check", '-g', 'node2', '-f', $cnf, '-m', '30', @{ $mta->argv }]);

subtest 'a POP login through node 1, relaying through node 2 at once' => sub {
  my $alice = loopback_ip();
  like(verdict($smtp2, $alice), qr/^RELAYCLIENT unset/, 'before the login: no relaying');
  my ($rc, $out) = swaks(server => $relay, opts => ['--local-interface', $alice, '--from', 'a@example.org', '--to', 'someone@elsewhere.test']);
  like($out, qr/^<\*\* 5\d\d /m, 'swaks: relaying refused');
  like(pop_login($pop, $alice, 'secret'), qr/\+OK maildrop of alice ready/, 'POP login served, recorded through node1');
  like(verdict($smtp2, $alice), qr/^RELAYCLIENT=\[\] ip=\Q$alice\E/, 'relaydb-check reading node2 trusts the client at once');
  ($rc, $out) = swaks(server => $relay, opts => ['--local-interface', $alice, '--from', 'a@example.org', '--to', 'someone@elsewhere.test']);
  is($rc, 0, 'swaks: the client relays through the chain reading node2') or diag $out;
};

my $rcpt1 = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
  argv => ["$top/rcptchecks/rcptchecks", '-g', 'node1,node2,node3', '-f', $cnf, '-d', '0', '-u', '0', @{ $mta->argv }]);
sub rcpt_reply {
  my ($to) = @_;
  my $c = smtp_connect($rcpt1->ip, $rcpt1->port, timeout => 15);
  $c->expect(qr/^220 /);
  $c->cmd('HELO client.example');
  $c->cmd('MAIL FROM:<s@sender.example>');
  my $r = $c->cmd("RCPT TO:<$to>");
  $c->cmd('QUIT');
  return $r;
}

subtest 'a recipient added on node 3, accepted by rcptchecks reading node 1' => sub {
  like(rcpt_reply('carol@example.org'), qr/^550 5\.1\.1 /, 'not yet: 550');
  $g->sql(3, "INSERT INTO rcptchecks_addresses VALUES ('carol\@example.org')");
  like(rcpt_reply('carol@example.org'), qr/^250 /, 'added on node3: 250 through node1');
};

# runs @jobs (argv lists), $width at once; returns the failures' stderr
sub run_all {
  my ($width, @jobs) = @_;
  my (%kids, @failed);
  my $deadline = time + 300;
  while (@jobs || %kids) {
    while (@jobs && keys %kids < $width) {
      my $argv = shift @jobs;
      my $err = tmpdir() . '/err';
      my $pid = fork // die "fork: $!";
      if (!$pid) { open STDOUT, '>', '/dev/null'; open STDERR, '>', $err; { exec @$argv } POSIX::_exit(127) }
      $kids{$pid} = $err;
    }
    my $pid = waitpid(-1, 0);
    last if $pid < 0;
    my $err = delete $kids{$pid} or next;
    push @failed, slurp($err) // "exit $?" if $?;
    die 'concurrent run overran 300 s' if time > $deadline;
  }
  return @failed;
}
sub ip_of { my $i = shift; sprintf '10.9.%d.%d', $i >> 8, $i & 255 }
sub count_rows { my ($i, $where) = @_; $g->sql($i, "SELECT COUNT(*), COUNT(DISTINCT ip) FROM relaydb WHERE $where") =~ /^(\d+)\t(\d+)/ ? ($1, $2) : (-1, -1) }

subtest '1,000 concurrent adds over three nodes, expire on another' => sub {
  my @groups = ('node1,node2,node3', 'node2,node3,node1', 'node3,node1,node2');
  my @jobs = map { ["$bin/relaydb", '-g', $groups[$_ % 3], '-f', $cnf, 'add', ip_of($_)] } 0 .. 999;
  # expire between the adds, through whichever node is first in its list
  splice @jobs, 100 * $_, 0, ["$bin/relaydb", '-g', $groups[($_ + 1) % 3], '-f', $cnf, 'expire', '1440'] for reverse 1 .. 9;
  my @failed = run_all(24, @jobs);
  is(scalar @failed, 0, 'every add and expire succeeded (certification conflicts retried)') or diag join '', @failed[0 .. ($#failed < 4 ? $#failed : 4)];
  for my $i (1 .. 3) {
    my ($n, $d) = count_rows($i, "ip LIKE '10.9.%'");
    is("$n/$d", '1000/1000', "node$i: 1,000 entries, none lost, none twice");
  }
};

subtest 'a node killed mid-load and rejoined' => sub {
  my @jobs = map { ["$bin/relaydb", '-g', 'node2,node3,node1', '-f', $cnf, 'add', sprintf('10.8.%d.%d', $_ >> 8, $_ & 255)] } 0 .. 999;
  # node2 is killed (SIGKILL to its process group) while the adds run
  my $victim = $g->pid(2);
  my $killer = fork // die "fork: $!";
  # one second into the load: the kill's moment is the case, not a wait
  if (!$killer) { sleep 1; kill 'KILL', -$victim; POSIX::_exit(0) }
  my $t0 = time;
  my @failed = run_all(12, @jobs);
  waitpid($killer, 0);
  ok(time - $t0 > 1, sprintf('the adds ran for %.1f s, node2 killed after 1 s', time - $t0));
  $g->kill(2);    # reaped
  is(scalar @failed, 0, 'node2 killed mid-load: every client went on through node3') or diag join '', @failed[0 .. ($#failed < 4 ? $#failed : 4)];
  like(verdict($smtp2, (my $ip = loopback_ip())), qr/^RELAYCLIENT unset ip=/, 'relaydb-check, node2 first in its list, answers through node3');
  like(rcpt_reply('alice@example.org'), qr/^250 /, 'rcptchecks still answers');
  $g->start(2);
  ok($g->wait_synced(120), 'node2 rejoins and syncs');
  like(slurp($g->dir . '/n2/error.log') // '', qr/IST received|Receiving IST|IST request/, 'by incremental state transfer');
  for my $i (1 .. 3) {
    my ($n, $d) = count_rows($i, "ip LIKE '10.8.%'");
    is("$n/$d", '1000/1000', "node$i: all 1,000 entries");
  }
};

subtest 'every node down: the documented fail modes' => sub {
  my $roamer = loopback_ip();
  like(pop_login($pop, $roamer, 'secret'), qr/\+OK maildrop/, 'a login recorded while the cluster is up');
  $g->kill($_) for 1 .. 3;
  like(verdict($smtp2, $roamer), qr/^RELAYCLIENT unset/, 'relaydb-check fails closed');
  ok(wait_until(5, sub { $smtp2->log_text =~ /relaydb-check: warning: pid \d+ ip \Q$roamer\E store=sql result=error reason=unable to connect \(MariaDB group node2,node3,node1\): node2: .*; node3: .*; node1: / }, 'every group tried'),
    '... after trying every group, logged') or diag $smtp2->log_text;
  like(rcpt_reply('alice@example.org'), qr/^451 4\.3\.0 /, 'rcptchecks answers 451');
  my $t0 = time;
  like(pop_login($pop, loopback_ip(), 'secret'), qr/\+OK maildrop/, 'the POP login is still served');
  cmp_ok(time - $t0, '<', 4, '... without delay');
};

$g->stop_all;
done_testing;

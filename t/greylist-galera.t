#!/usr/bin/perl
# Greylisting shared by two MX hosts on the suite's three-node MariaDB
# Galera cluster (t/lib/MXGalera.pm): two rcptchecks chains in front of
# exim4 -bs, one reaching node 1 first, the other node 2: the first
# attempt deferred on one MX passes on the other after the delay, the
# network counted once for both; a node killed, the chain that used it
# fails over to the next group and the mail still passes.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;
use MXGalera;

plan skip_all => 'galera-4 is not installed' unless -e '/usr/lib/galera/libgalera_smm.so';
my $top = top();
# the delay: long enough that the sessions meant to come too early do,
# however slow the machine (a Galera session under make asan takes seconds)
our $DELAY = 8;
my $bin = "$top/rcptchecks/rcptchecks";
plan skip_all => "$bin not built" unless -x $bin && -x "$bin-sql";
my $g = start_galera(nodes => 3);
my $cnf = $g->cnf;
$g->sql(1, <<'SQL');
CREATE TABLE rcptchecks_domains (domain VARBINARY(255) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE rcptchecks_addresses (address VARBINARY(320) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO rcptchecks_domains VALUES ('example.org');
INSERT INTO rcptchecks_addresses VALUES ('alice@example.org');
SQL
$g->sql(1, greylist_tables());
my %mx = (mx1 => 'node1,node2,node3', mx2 => 'node2,node3,node1');
my $mta = exim_child();

# one session on MX $mx: (RCPT's reply, the log)
sub session {
  my ($mx, %a) = @_;
  my $conv = "EHLO client.example\r\nMAIL FROM:<$a{from}>\r\nRCPT TO:<alice\@example.org>\r\n";
  $conv .= "DATA\r\nSubject: $mx\r\n\r\nbody\r\n.\r\n" if $a{data};
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-g', $mx{$mx}, '-f', $cnf, '-T', '3', '-d', '0', '-u', '0',
      '-E', 'greylist', '-I', $DELAY, @{ $mta->argv }],
    env => { TCPREMOTEIP => $a{ip} // '192.0.2.7', RELAYCLIENT => undef, RBLSCORE => undef, SMTPDELAY_CLASS => undef },
    stdin => "$conv" . "QUIT\r\n", timeout => 60);
  is($rc, 0, "rcptchecks on $mx exits 0") or diag $err;
  my @r = grep { /^\d{3} / } split /\r\n/, $out;
  return ($r[3] // '', $err);
}
sub after { my ($t0, $d) = @_; my $left = $t0 + $d + 0.2 - time; sleep $left if $left > 0 }

subtest 'first attempt on one MX, the retry on the other' => sub {
  my $t0 = time;
  my ($r, $log) = session('mx1', from => 'roam@sender.example', ip => '192.0.2.7');
  like($r, qr/^451 4\.7\.1 /, 'MX 1 (node 1): deferred');
  ($r, $log) = session('mx2', from => 'roam@sender.example', ip => '192.0.2.99');
  like($log, qr/greylist=early$/m, 'MX 2 (node 2), another address of the /24, too early: it knows the triplet');
  after($t0, $DELAY);
  my $before = () = $mta->messages;
  ($r, $log) = session('mx2', from => 'roam@sender.example', ip => '192.0.2.8', data => 1);
  like($r, qr/^250 /, 'MX 2, after the delay: accepted');
  like($log, qr/greylist=retried$/m, 'greylist=retried');
  is($mta->wait_messages($before + 1), $before + 1, 'delivered');
  ($r, $log) = session('mx1', from => 'roam@sender.example');
  like($log, qr/greylist=known$/m, 'MX 1 sees the pass');
  is($g->sql(3, "SELECT passes FROM greylist_nets WHERE net = '192.0.2.0/24'"), "1\n", 'node 3: the network counted once');
  # the known pass within the hour is read, not written (greydb.8)
  is($g->sql(3, "SELECT count FROM greylist WHERE sender = 'roam\@sender.example'"), "3\n", 'node 3: every sighting up to the pass counted, the known one read only');
};

subtest 'node 1 killed: MX 1 fails over, the mail still passes' => sub {
  $g->kill(1);
  # while the cluster re-forms, a node may answer "WSREP not ready": the
  # store fails and the mail passes (greylist=error), by design; the
  # failover itself is tested once nodes 2 and 3 are the cluster
  ok($g->wait_synced(60), 'nodes 2 and 3 form the cluster');
  my $t0 = time;
  my ($r, $log) = session('mx1', from => 'failover@sender.example', ip => '198.51.100.3');
  like($r, qr/^451 4\.7\.1 /, 'MX 1, through node 2: deferred') or diag $log;
  after($t0, $DELAY);
  ($r, $log) = session('mx2', from => 'failover@sender.example', ip => '198.51.100.3');
  like($r, qr/^250 /, 'MX 2: the retry passes');
};

done_testing;

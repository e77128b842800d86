#!/usr/bin/perl
# rcptchecks' greylisting in the MariaDB tables of greydb.8, reached
# through the -g group of the recipient source (rcptchecks hands over to
# rcptchecks-sql), in front of exim4 -bs: a first attempt deferred and
# its row, a retry after the delay delivered and the network counted,
# the auto-allow-list, 20 sessions at once with one new triplet (one
# row, every sighting counted, none lost or doubled), the greylisting
# tables unusable (the mail passes, logged), and greydb -g.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
my $greydb = "$top/rcptchecks/greydb";
plan skip_all => "$bin not built" unless -x $bin && -x "$bin-sql" && -x $greydb;
my $db = start_mariadb();
my $mta = exim_child();

# the tables of greydb.8, and rcptchecks.8's recipient tables
$db->sql(<<'SQL');
CREATE TABLE rcptchecks_domains (domain VARBINARY(255) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE rcptchecks_addresses (address VARBINARY(320) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO rcptchecks_domains VALUES ('example.org');
INSERT INTO rcptchecks_addresses VALUES ('alice@example.org');
SQL
$db->sql(greylist_tables());

# the delay: long enough that the session meant to come too early does,
# however slow the machine
our $DELAY = 6;
sub start {
  my (%a) = @_;
  my $conv = "EHLO client.example\r\nMAIL FROM:<$a{from}>\r\nRCPT TO:<alice\@example.org>\r\n";
  $conv .= "DATA\r\nSubject: sql\r\n\r\nbody\r\n.\r\n" if $a{data};
  return start_cmd(argv => [$bin, '-g', $db->group, '-f', $db->cnf, '-d', '0', '-u', '0', '-E', 'greylist', '-I', $DELAY,
      @{ $a{opts} || [] }, @{ $mta->argv }],
    env => { TCPREMOTEIP => $a{ip} // '192.0.2.7', RELAYCLIENT => undef, RBLSCORE => undef, SMTPDELAY_CLASS => undef },
    stdin => "$conv" . "QUIT\r\n", timeout => 30);
}
sub session {
  my ($rc, $out, $err) = start(@_)->finish;
  is($rc, 0, 'rcptchecks exits 0') or diag $err;
  my @r = grep { /^\d{3} / } split /\r\n/, $out;
  return ($r[3] // '', $err);
}
sub after { my ($t0, $d) = @_; my $left = $t0 + $d + 0.2 - time; sleep $left if $left > 0 }

subtest 'deferred, then delivered after the delay; the rows' => sub {
  my $t0 = time;
  my ($r, $log) = session(from => 'one@sender.example');
  like($r, qr/^451 4\.7\.1 Greylisted: please try again in [1-6] seconds$/, 'first attempt deferred');
  like($log, qr/greylist=new$/m, 'greylist=new');
  is($db->sql("SELECT net, sender, rcpt, passed, count FROM greylist"), "192.0.2.0/24\tone\@sender.example\talice\@example.org\t0\t1\n", 'its row');
  ($r, $log) = session(from => 'one@sender.example');
  like($log, qr/greylist=early$/m, 'too early: deferred again');
  after($t0, $DELAY);
  my $before = () = $mta->messages;
  ($r, $log) = session(from => 'one@sender.example', data => 1);
  like($r, qr/^250 /, 'the retry passes');
  like($log, qr/greylist=retried$/m, 'greylist=retried');
  is($mta->wait_messages($before + 1), $before + 1, 'and is delivered');
  is($db->sql("SELECT count, passed > 0 FROM greylist WHERE sender = 'one\@sender.example'"), "3\t1\n", 'seen 3 times, passed');
  is($db->sql("SELECT net, passes FROM greylist_nets"), "192.0.2.0/24\t1\n", 'the network counted once');
};

subtest 'auto-allow-list from the table' => sub {
  $db->sql("INSERT INTO greylist_nets VALUES ('198.51.100.0/24', 5, UNIX_TIMESTAMP())");
  my ($r, $log) = session(from => 'any@bulk.example', ip => '198.51.100.4');
  like($r, qr/^250 /, 'a network with 5 passes: accepted at once');
  like($log, qr/greylist=allowed$/m, 'greylist=allowed');
};

subtest '20 sessions at once, one new triplet: one row, every sighting counted' => sub {
  # a delay none of them outlasts, however slow the machine
  my @jobs = map { start(from => 'burst@sender.example', ip => '203.0.113.9', opts => ['-I', '600']) } 1 .. 20;
  my @words = map { my ($rc, $out, $err) = $_->finish; $err =~ /greylist=(\w+)$/m ? $1 : 'none' } @jobs;
  is(scalar(grep { $_ eq 'new' } @words), 1, 'one session saw it new') or diag "@words";
  is(scalar(grep { $_ eq 'early' } @words), 19, 'the others too early');
  is($db->sql("SELECT COUNT(*), SUM(count) FROM greylist WHERE sender = 'burst\@sender.example'"), "1\t20\n", 'one row, count 20');
};

subtest 'the greylisting tables unusable, the recipient tables answering: the mail passes, logged' => sub {
  $db->sql('RENAME TABLE greylist TO greylist_away');
  my $before = () = $mta->messages;
  my ($r, $log) = session(from => 'down@sender.example', ip => '192.0.2.200', data => 1);
  like($r, qr/^250 /, 'the recipient accepted, not deferred');
  like($log, qr/greylist=error$/m, 'logged greylist=error');
  is($mta->wait_messages($before + 1), $before + 1, 'and the message delivered');
  $db->sql('RENAME TABLE greylist_away TO greylist');
  ($r, $log) = session(from => 'down@sender.example', ip => '192.0.2.200');
  like($log, qr/greylist=new$/m, 'the table back: greylisted again as new');
};

subtest 'greydb -g' => sub {
  my @g = ($greydb, '-g', $db->group, '-f', $db->cnf);
  my ($rc, $out, $err) = run_cmd(argv => [@g, 'allow', '192.0.2.0/24']);
  is($rc, 0, 'allow') or diag $err;
  is($db->sql("SELECT passes FROM greylist_nets WHERE net = '192.0.2.0/24'"), "5\n", 'passes set to the auto-allow count');
  ($rc, $out, $err) = run_cmd(argv => [@g, 'load'], stdin => "10.0.0.0/8 old\@x.example alice\@example.org 1000 0 1\n");
  is($rc, 0, 'load') or diag $err;
  ($rc, $out, $err) = run_cmd(argv => [@g, 'expire']);
  is($rc, 0, 'expire') or diag $err;
  is($db->sql("SELECT COUNT(*) FROM greylist WHERE sender = 'old\@x.example'"), "0\n", 'the stale triplet is gone');
  ($rc, $out, $err) = run_cmd(argv => [@g, 'delete', '203.0.113.0/24', 'burst@sender.example', 'alice@example.org']);
  is($rc, 0, 'delete');
  is($db->sql("SELECT COUNT(*) FROM greylist WHERE sender = 'burst\@sender.example'"), "0\n", 'the triplet is gone');
  ($rc, $out, $err) = run_cmd(argv => [@g, 'dump']);
  is($rc, 0, 'dump') or diag $err;
  like($out, qr{^192\.0\.2\.0/24 5 \d+\n}m, 'the network allowed');
  like($out, qr{^192\.0\.2\.0/24 one\@sender\.example alice\@example\.org \d+ \d+ 3\n}m, 'a triplet');
  ($rc, $out, $err) = run_cmd(argv => [@g, 'load'], stdin => $out);
  is($rc, 0, 'what dump printed loads back') or diag $err;
};

done_testing;

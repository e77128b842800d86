#!/usr/bin/perl
# Concurrent writers lose nothing: 1,000 relaydb add of distinct new IPs,
# 1,000 renewals of old entries, and expire running all the while, in both
# stores. Afterwards every new and every renewed entry is there with its
# exact timestamp, every old one not renewed is gone, and no temp file is
# left behind.
use strict;
use warnings;
use Test::More;
use POSIX qw(:sys_wait_h);
use lib 't/lib';
use MXTest;
use MXRun;

my $relaydb = top() . '/relaydb/relaydb';
my $old = 1_000_000;        # far older than any expire window
my $fresh = time + 3600;    # newer than any cutoff: expire must keep them

sub ip_new   { my $i = shift; sprintf '10.1.%d.%d', $i >> 8, $i & 255 }
sub ip_renew { my $i = shift; sprintf '10.2.%d.%d', $i >> 8, $i & 255 }
sub ip_stale { my $i = shift; sprintf '2001:db8::%x', $i + 1 }

# runs @jobs (argv lists), at most $width at once; returns failed count
sub run_all {
  my ($width, @jobs) = @_;
  my (%kids, $failed);
  $failed = 0;
  my $deadline = time + 240;
  while (@jobs || %kids) {
    while (@jobs && keys %kids < $width) {
      my $argv = shift @jobs;
      my $pid = fork // die "fork: $!";
      if (!$pid) { open STDOUT, '>', '/dev/null'; { exec @$argv } POSIX::_exit(127) }
      $kids{$pid} = 1;
    }
    my $pid = waitpid(-1, 0);
    last if $pid < 0;
    next unless delete $kids{$pid};
    $failed++ if $?;
    die 'concurrent run overran 240 s' if time > $deadline;
  }
  return $failed;
}

sub concurrency {
  my (@store) = @_;
  # 1,000 old entries to be renewed, 1,000 old entries that must expire
  my $seed = join '', map { ip_renew($_) . " $old\n" . ip_stale($_) . " $old\n" } 0 .. 999;
  my ($rc, undef, $err) = run_cmd(argv => [$relaydb, @store, 'load'], stdin => $seed, timeout => 120);
  is($rc, 0, 'seeded 2,000 old entries') or diag $err;

  my @jobs;
  for my $i (0 .. 999) {
    push @jobs, [$relaydb, @store, 'add', ip_new($i), $fresh];
    push @jobs, [$relaydb, @store, 'add', ip_renew($i), $fresh];
    push @jobs, [$relaydb, @store, 'expire', '30'] if $i % 50 == 0;
  }
  # interleave: adds and expires in flight together
  my $failed = run_all(40, @jobs);
  is($failed, 0, scalar(@jobs) . ' concurrent relaydb runs all exited 0');
  ($rc, undef, $err) = run_cmd(argv => [$relaydb, @store, 'expire', '30'], timeout => 120);
  is($rc, 0, 'a last expire') or diag $err;

  my ($rc2, $out) = run_cmd(argv => [$relaydb, @store, 'dump'], timeout => 120);
  my %got = map { split / / } split /\n/, $out;
  my @lost = grep { !defined $got{$_} || $got{$_} != $fresh } map { (ip_new($_), ip_renew($_)) } 0 .. 999;
  is(scalar @lost, 0, 'all 1,000 new and 1,000 renewed entries are there with their timestamps')
    or diag "lost or wrong: @lost[0 .. ($#lost < 9 ? $#lost : 9)]";
  my @stale = grep { defined $got{ip_stale($_)} } 0 .. 999;
  is(scalar @stale, 0, 'every old entry that was not renewed has expired');
  is(scalar(keys %got), 2000, 'nothing else in the store');
}

# The hard race: expire has read an old entry and is about to take it
# when a writer renews it. In each of 10 rounds, 300 entries are made old,
# then one writer renews them all while four loops of expire sweep the
# store at the same moment; afterwards every entry must be there and fresh.
sub renewal_race {
  my (@store) = @_;
  my @ips = map { sprintf '10.3.%d.%d', $_ >> 8, $_ & 255 } 1 .. 300;
  my $olds = join '', map { "$_ $old\n" } @ips;
  my $fresh_all = join '', map { "$_ $fresh\n" } reverse @ips;
  my @lost;
  my $failed_jobs = 0;
  for my $round (1 .. 10) {
    my ($rc, undef, $err) = run_cmd(argv => [$relaydb, @store, 'load'], stdin => $olds);
    $rc == 0 or diag $err;
    my @jobs = ((map { start_cmd(argv => ['/bin/sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do "$@" || exit 1; done',
                                          'sweep', $relaydb, @store, 'expire', '30']) } 1 .. 4),
                start_cmd(argv => [$relaydb, @store, 'load'], stdin => $fresh_all));
    for my $job (@jobs) {
      my ($jrc, undef, $jerr) = $job->finish;
      $failed_jobs++, diag("round $round: $jerr") if $jrc;
    }
    my (undef, $out) = run_cmd(argv => [$relaydb, @store, 'dump'], timeout => 60);
    my %got = map { split / / } split /\n/, $out;
    push @lost, grep { !defined $got{$_} || $got{$_} != $fresh } @ips;
  }
  is($failed_jobs, 0, 'every writer and expire run succeeded');
  is(scalar @lost, 0, 'no renewal lost to a concurrent expire (10 rounds of 300)')
    or diag scalar(@lost) . " lost, e.g. @lost[0 .. ($#lost < 9 ? $#lost : 9)]";
}

subtest 'directory store' => sub {
  my $dir = tmpdir();
  concurrency('-d', $dir);
  renewal_race('-d', $dir);
  opendir my $dh, $dir or die;
  my @temp = grep { /^\.(tmp|del)\./ } readdir $dh;
  is_deeply(\@temp, [], 'no temp file left behind');
};

subtest 'MariaDB store' => sub {
  my $db = start_mariadb();
  concurrency('-g', $db->group, '-f', $db->cnf);
  renewal_race('-g', $db->group, '-f', $db->cnf);
  $db->stop;
};

done_testing;

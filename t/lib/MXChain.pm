# MXChain: what the whole-chain tests (t/chain-e2e.t, t/chain-faults.t)
# share: finding a session's pid and log lines, swaks from a given
# client address, and processes left behind. (Waiting: MXTest's wait_until.)
package MXChain;
use strict;
use warnings;
use Exporter 'import';
use MXTest;
use MXRun;

our @EXPORT = qw(chain_programs conn_pid leftovers lines_of run_swaks);

# the built programs the chains run, by the short names the tests use
sub chain_programs {
  my $top = top();
  return (
    check      => "$top/relaydb/relaydb-check",
    rec        => "$top/relaydb/relaydb-rec",
    rblenv     => "$top/rblenv/rblenv",
    delay      => "$top/smtp-delay/smtp-delay",
    rcptchecks => "$top/rcptchecks/rcptchecks",
    make       => "$top/rcptchecks/rcptchecks-make",
  );
}

# the pid tcpserver gave the last session from $ip (-1 if none)
sub conn_pid {
  my ($s, $ip) = @_;
  my @p = $s->log_text =~ /^tcpserver: pid (\d+) from \Q$ip\E$/mg;
  return $p[-1] // -1;
}

# live processes of the chains other than the tcpservers themselves:
# members of their process groups, and anything whose command line
# names one of @markers (exim's configuration, an option file)
sub leftovers {
  my ($servers, @markers) = @_;
  my %pgid = map { $_->pid => 1 } @$servers;
  my @left;
  opendir my $dh, '/proc' or die "/proc: $!";
  for my $pid (grep { /^\d+$/ && $_ != $$ } readdir $dh) {
    next if $pgid{$pid};
    my $stat = slurp("/proc/$pid/stat") // next;
    my ($state, undef, $pgrp) = split ' ', substr($stat, rindex($stat, ')') + 2);
    next if $state eq 'Z';
    my $cmd = slurp("/proc/$pid/cmdline") // next;
    next if $cmd =~ m{\A/usr/bin/tcpserver\0};
    push @left, "$pid " . join(' ', grep { length } (split /\0/, $cmd)[0 .. 2])
      if $pgid{$pgrp} || grep { index($cmd, $_) >= 0 } @markers;
  }
  return @left;
}

# the log lines of program $prog for client $ip
sub lines_of {
  my ($s, $prog, $ip) = @_;
  return join "\n", grep { /^\Q$prog\E: \w+: pid \d+ ip \Q$ip\E / } split /\n/, $s->log_text;
}

# swaks from client address $src, with a fixed HELO and sender
sub run_swaks {
  my ($s, $src, @opts) = @_;
  return swaks(server => $s, timeout => 25,
    opts => ['--local-interface', $src, '--ehlo', 'client.test', '--from', 'sender@other.test', @opts]);
}

1;

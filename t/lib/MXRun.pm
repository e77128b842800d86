package MXRun;
# Running a command from a test, always with a time bound.
#
#   my ($rc, $out, $err) = run_cmd(argv => [...], stdin => $bytes,
#                                  env => {VAR => value or undef}, timeout => 30);
#     Runs argv (no shell), feeds stdin, collects stdout and stderr.
#     $rc is the exit code, or 128+signal; a command that overruns its
#     timeout is killed and the test fails.
#
#   my $job = start_cmd(same arguments);   # runs in the background
#   my ($rc, $out, $err) = $job->finish($timeout);
#   $job->pid
#
#   slurp($path): a file's bytes, or undef if it cannot be opened.
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempfile);
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep time);
use Test::More ();

our @EXPORT = qw(run_cmd start_cmd slurp);

my %running;   # pid => 1, killed at exit so nothing outlives the test

sub start_cmd {
  my (%a) = @_;
  my ($in_fh, $in_name) = tempfile(UNLINK => 1);
  binmode $in_fh;
  print {$in_fh} $a{stdin} // '';
  close $in_fh;
  my ($out_fh, $out_name) = tempfile(UNLINK => 1);
  my ($err_fh, $err_name) = tempfile(UNLINK => 1);
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    setpgrp(0, 0);
    open STDIN, '<', $in_name or die;
    open STDOUT, '>&', $out_fh or die;
    open STDERR, '>&', $err_fh or die;
    while (my ($k, $v) = each %{ $a{env} || {} }) {
      if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
    }
    exec { $a{argv}[0] } @{ $a{argv} } or POSIX::_exit(127);
  }
  $running{$pid} = 1;
  return bless { pid => $pid, out => $out_name, err => $err_name,
                 timeout => $a{timeout} // 60, argv => $a{argv} }, __PACKAGE__;
}

sub pid { $_[0]{pid} }

sub finish {
  my ($self, $timeout) = @_;
  $timeout //= $self->{timeout};
  my $deadline = time + $timeout;
  my $status;
  while (1) {
    my $r = waitpid($self->{pid}, WNOHANG);
    if ($r == $self->{pid}) { $status = $?; last }
    if (time > $deadline) {
      kill 'KILL', -$self->{pid};
      waitpid($self->{pid}, 0);
      $status = $?;
      Test::More::fail("@{$self->{argv}}[0..0] finished within ${timeout}s");
      last;
    }
    sleep 0.01;
  }
  delete $running{$self->{pid}};
  my $rc = $status & 127 ? 128 + ($status & 127) : $status >> 8;
  return ($rc, slurp($self->{out}) // '', slurp($self->{err}) // '');
}

sub run_cmd { return start_cmd(@_)->finish }

sub slurp {
  my ($name) = @_;
  open my $fh, '<:raw', $name or return undef;
  local $/;
  return scalar <$fh> // '';
}

END { kill 'KILL', -$_ for keys %running }

1;

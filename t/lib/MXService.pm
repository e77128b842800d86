package MXService;
# The examples' daemontools service directories in a test: copies with
# their settings rewritten, and a clean stop.
#
#   install_script('service/smtpd/run', "$dir/run", VAR => value, ...)
#     Copies examples/service/smtpd/run to $dir/run (mode 0755), setting
#     each VAR of its block of settings (between "# ---- settings" and
#     "# ---- end of settings") to value, shell-quoted, and nothing else;
#     one test per VAR: the block must set it.
#
#   my ($pids, $said) = service_up($dir, $wait)
#     svstat of $dir and $dir/log: [pid of the service, pid of its log]
#     when both are up (waiting up to $wait seconds for that, default 0),
#     else []; and what svstat said. svstat reads supervise/status, which
#     supervise rewrites around each start: asked at the very moment the
#     port opens, it may still say "down 0 seconds".
#
#   stop_services($svscan, $scandir, $ip, $port, @servicedirs)
#     Stops svscan (a start_cmd job) with SIGTERM first (it would start a
#     new supervise within five seconds), then svc -dx every directory;
#     tests that svscan ended, that no process of the scan directory is
#     left and that nothing listens on $ip:$port any more. Returns
#     svscan's output, for a diagnosis.
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::IP;
use Test::More ();
use MXRun;
use MXTest qw(top wait_until);

our @EXPORT = qw(install_script service_up stop_services);

sub _shquote { my ($v) = @_; $v =~ s/'/'\\''/g; return "'$v'" }

sub install_script {
  my ($from, $to, %set) = @_;
  my $src = top() . "/examples/$from";
  my $text = slurp($src) // die "$src: $!";
  my ($head, $block, $tail) = $text =~ /\A(.*?^# ---- settings -+\n)(.*?)(^# ---- end of settings -+\n.*)\z/ms
    or die "examples/$from: no settings block";
  for my $name (sort keys %set) {
    my $value = _shquote($set{$name});
    Test::More::ok($block =~ s/^\Q$name\E=.*$/$name=$value/m, "examples/$from sets $name in its settings block");
  }
  open my $fh, '>', $to or die "$to: $!";
  print {$fh} $head, $block, $tail;
  close $fh or die "$to: $!";
  chmod 0755, $to or die "$to: $!";
}

sub service_up {
  my ($dir, $wait) = @_;
  my ($out, @pids) = ('');
  my $check = sub {
    (undef, $out) = run_cmd(argv => ['/usr/bin/svstat', $dir, "$dir/log"], timeout => 10);
    @pids = $out =~ /^\Q$dir\E: up \(pid (\d+)\) \d+ seconds\n\Q$dir\E\/log: up \(pid (\d+)\) \d+ seconds$/;
    return scalar @pids;
  };
  $wait ? wait_until($wait, $check, 'svstat: the service and its log are up') : $check->();
  return ([@pids], $out);
}

# processes in process group $pgid or working in a directory under $dir
sub _procs_in {
  my ($dir, $pgid) = @_;
  my @found;
  opendir my $dh, '/proc' or die "/proc: $!";
  for my $p (grep { /^\d+$/ } readdir $dh) {
    open my $fh, '<', "/proc/$p/stat" or next;
    my $stat = <$fh> // next;
    my ($state, undef, $pgrp) = split ' ', substr($stat, rindex($stat, ')') + 2);
    next if $state eq 'Z';
    my $cwd = readlink "/proc/$p/cwd" // '';
    push @found, $p if $pgrp == $pgid || index("$cwd/", "$dir/") == 0;
  }
  return @found;
}

sub stop_services {
  my ($svscan, $scandir, $ip, $port, @dirs) = @_;
  kill 'TERM', $svscan->pid;
  my ($svrc, $svout, $sverr) = $svscan->finish(10);
  Test::More::is($svrc, 128 + 15, 'svscan ends on SIGTERM');
  my ($rc, $out, $err) = run_cmd(argv => ['/usr/bin/svc', '-dx', @dirs], timeout => 10);
  Test::More::is($rc, 0, 'svc -dx the service and its log') or Test::More::diag($err);
  Test::More::ok(wait_until(15, sub { !_procs_in($scandir, $svscan->pid) }, 'every process of the service is gone'),
    'nothing is left running')
    or Test::More::diag(`ps -o pid,pgid,args -p @{[ join ',', _procs_in($scandir, $svscan->pid), 1 ]}`);
  Test::More::ok(!IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => 1), 'nothing listens any more');
  return "$svout$sverr";
}

1;

#!/usr/bin/perl
# clang's static analyzer over every C file of the programs, common/ and
# the unit tests: no warning. It finds what the compiler and the
# sanitizers cannot see at run time, such as an uninitialised value
# copied where nothing reads it yet (rcptchecks/source.c once handed
# Connector/C a garbage length for a parameter the query did not have).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
plan skip_all => 'clang not installed' unless -x '/usr/bin/clang';
my @files = sort map { glob "$top/$_/*.c" } qw(common relaydb rblenv rcptchecks smtp-delay smtp-tls proxy-env smtp-forward smtp-screen report t/unit);
cmp_ok(scalar @files, '>=', 40, 'the C files are found');
# common/mx_child.c starts a server with vfork on purpose (posix_spawn
# costs its child about 130 system calls, mx_child.c says why); its
# child makes only system calls that touch no shared memory but one
# int before exec or _exit, which the two vfork checkers cannot tell
my @flags = ('--analyze', '-Xanalyzer', '-analyzer-disable-checker=unix.Vfork,security.insecureAPI.vfork', '-std=c99', '-D_XOPEN_SOURCE=700', '-D_DEFAULT_SOURCE', '-DRCPTCHECKS_CDB="x"',
  '-DRELAYDB_DIR="x"', '-I/usr/include/mariadb', map { "-I$top/$_" } qw(common relaydb rblenv rcptchecks smtp-delay smtp-tls proxy-env smtp-forward smtp-screen report t/unit));
# two at a time: each is a second or so of one core
my @jobs;
while (@files || @jobs) {
  while (@files && @jobs < 2) {
    my $f = shift @files;
    push @jobs, [$f, start_cmd(argv => ['/usr/bin/clang', @flags, $f, '-o', '/dev/null'], timeout => 120)];
  }
  my ($f, $job) = @{ shift @jobs };
  my ($rc, $out, $err) = $job->finish;
  (my $name = $f) =~ s{^\Q$top\E/}{};
  ok($rc == 0 && $err !~ /warning|error/, "$name: no analyzer warning") or diag $err;
}
done_testing;

#!/usr/bin/perl
# The libFuzzer harnesses (fuzz/*-fuzz.c): "make fuzz-build" builds them
# with clang, and each runs 5 seconds from its seed corpus
# (fuzz/corpus/NAME) through "make fuzz-run-NAME", two at a time, with
# no crash, leak, timeout or broken invariant. "make fuzz" runs them
# longer (FUZZ_SECONDS, default 60).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
plan skip_all => 'clang is not installed (Debian packages clang and libclang-rt-14-dev): the harnesses need libFuzzer'
  unless grep { -x "$_/clang" } split /:/, $ENV{PATH} // '';

my @names = sort map { m{([^/]+)-fuzz\.c$} } glob "$top/fuzz/*-fuzz.c";
ok(@names >= 6, 'harness sources: ' . join(' ', @names));

my ($rc, $out, $err) = run_cmd(argv => ['make', '-s', '-C', $top, 'fuzz-build'], timeout => 300);
is($rc, 0, 'make fuzz-build succeeds') or diag $out, $err;
unlike("$out$err", qr/warning:/, 'the fuzz build is warning-free') or diag $err;
for my $n (@names) {
  ok(-x "$top/fuzz/$n-fuzz", "fuzz/$n-fuzz is built");
  my @seeds = glob "$top/fuzz/corpus/$n/*";
  ok(@seeds >= 3, "fuzz/corpus/$n has seeds");
}

# two at a time: a pair runs while the next waits
my @queue = @names;
while (my @pair = splice @queue, 0, 2) {
  my %job = map { ($_ => start_cmd(argv => ['make', '-s', '-C', $top, "fuzz-run-$_", 'FUZZ_SECONDS=5'], timeout => 60)) } @pair;
  for my $n (@pair) {
    my ($rc, $out, $err) = $job{$n}->finish;
    is($rc, 0, "fuzz/$n-fuzz runs 5 s without a crash") or diag $out, $err;
    # the seconds it ran: at least the 5 asked for; libFuzzer checks the
    # limit between inputs, so a loaded machine overshoots (8 s seen)
    like($out, qr/^fuzz\/$n-fuzz: (?:[5-9]|[1-5]\d) s, \d+ runs, .*no crash$/m, "fuzz/$n-fuzz reports its run") and note $out;
  }
}
done_testing;

#!/usr/bin/perl
# Runs the C unit tests (t/unit/*-test, built by make): each prints TAP,
# and each of its results becomes one result here.
use strict;
use warnings;
use Test::More;
use TAP::Parser;
use FindBin;

my $top = "$FindBin::Bin/..";
my @units = sort glob "$top/t/unit/*-test";
ok(scalar @units >= 2, 'unit test programs are built') or BAIL_OUT('run make first');

for my $bin (@units) {
  (my $name = $bin) =~ s{.*/}{};
  subtest $name => sub {
    my $parser = TAP::Parser->new({ exec => [$bin] });
    while (my $r = $parser->next) {
      ok($r->is_ok, $r->description) if $r->is_test;
    }
    is($parser->exit, 0, "$name exits 0");
    ok(!$parser->parse_errors, "$name speaks valid TAP") or diag join "\n", $parser->parse_errors;
  };
}
done_testing;

#!/usr/bin/perl
# common/LIBRARIES: no program links skalibs and libowfat raw together.
# A program that holds skalibs code must hold no global symbol that only
# libowfat defines (a sealed DNS object has made its libowfat symbols
# local), and no program may need both libraries' shared objects.
# A deliberately bad program, linked raw with both, must be caught.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use FindBin;

my $top = "$FindBin::Bin/..";
my $skalibs = '/usr/lib/x86_64-linux-gnu/libskarnet.a';
my $owfat = '/usr/lib/libowfat.a';
for ($skalibs, $owfat) { plan skip_all => "$_ not installed" unless -e $_ }

sub defined_globals {
  my ($file) = @_;
  my %s;
  for (`nm -g --defined-only '$file' 2>/dev/null`) {
    $s{$2} = 1 if /^(?:[0-9a-f]+)?\s+([A-Z])\s+(\S+)$/ && $1 ne 'U';
  }
  return \%s;
}
my $sk = defined_globals($skalibs);
my $ow = defined_globals($owfat);
my @shared = grep { $ow->{$_} } keys %$sk;
my %ow_only = map { $_ => 1 } grep { !$sk->{$_} } keys %$ow;
my %sk_only = map { $_ => 1 } grep { !$ow->{$_} } keys %$sk;
ok(@shared > 20, scalar(@shared) . ' symbol names are defined by both libraries');

# what one linked program holds: [skalibs code?, libowfat code?, why]
sub verdict {
  my ($bin) = @_;
  my $g = defined_globals($bin);
  my @needed = map { /\[(.*)\]/ ? $1 : () } grep /NEEDED/, `readelf -d '$bin'`;
  my $has_sk = (grep { $sk_only{$_} } keys %$g) || (grep /libskarnet/, @needed);
  my @ow_syms = grep { $ow_only{$_} } keys %$g;
  my $has_ow = @ow_syms || (grep /libowfat/, @needed);
  return ($has_sk ? 1 : 0, $has_ow ? 1 : 0, join(' ', (sort @ow_syms)[0 .. ($#ow_syms < 4 ? $#ow_syms : 4)]));
}

open my $fh, '<', "$top/TARGETS" or die "TARGETS: $!";
my @programs = grep { !m{^t/} && !/\.[od]$/ && !/^#/ && length } map { chomp; $_ } <$fh>;
ok(@programs >= 3, 'programs listed in TARGETS');
for my $p (@programs) {
  my $bin = "$top/$p";
  ok(-x $bin, "$p is built") or next;
  my ($has_sk, $has_ow, $which) = verdict($bin);
  ok(!($has_sk && $has_ow), "$p does not link skalibs and libowfat raw together")
    or diag "libowfat-only globals in $p: $which";
}

# libidn2 and libunistring are linked beside skalibs (common/LIBRARIES):
# they must define no global name that skalibs defines
for my $lib (map { "/usr/lib/x86_64-linux-gnu/$_" } qw(libidn2.a libunistring.a)) {
  SKIP: {
    skip "$lib not installed", 1 unless -e $lib;
    my $g = defined_globals($lib);
    my @clash = grep { $g->{$_} } sort keys %$sk;
    ok(keys %$g > 10 && !@clash, "$lib shares no global name with skalibs") or diag "@clash[0 .. ($#clash < 9 ? $#clash : 9)]";
  }
}

# the SMTP chain's links are exec'd once per connection: static, so that
# no dynamic loading is paid each time (Makefile: not under the
# sanitizers, whose runtimes want a dynamic program); the -sql builds
# are dynamic, to load Connector/C
my $sanitized = grep { /__asan_init|__ubsan_handle/ } `nm '$top/rcptchecks/rcptchecks' 2>/dev/null`;
SKIP: {
  skip 'a sanitizer build links dynamically', 7 if $sanitized;
  for my $p (qw(relaydb/relaydb-check rblenv/rblenv smtp-delay/smtp-delay rcptchecks/rcptchecks proxy-env/proxy-env smtp-forward/smtp-forward)) {
    my @dyn = grep /NEEDED|INTERP/, `readelf -dl '$top/$p' 2>/dev/null`;
    ok(!@dyn, "$p is linked statically") or diag @dyn;
  }
  for my $p (qw(relaydb/relaydb-check-sql rcptchecks/rcptchecks-sql)) {
    my @dyn = grep /NEEDED/, `readelf -d '$top/$p' 2>/dev/null`;
    ok(@dyn, "$p is linked dynamically");
  }
}

# OpenSSL is smtp-tls's alone, and even smtp-tls does not link it: it
# dlopen()s libssl at the first STARTTLS (common/LIBRARIES), so that a
# session in clear never maps it
for my $p (@programs) {
  my @ssl = grep /NEEDED.*lib(?:ssl|crypto)\.so/, `readelf -d '$top/$p' 2>/dev/null`;
  ok(!@ssl, "$p does not link OpenSSL") or diag @ssl;
}
{
  my $strings = `strings '$top/smtp-tls/smtp-tls' 2>/dev/null`;
  ok($strings =~ /^libssl\.so\.3$/m, 'smtp-tls/smtp-tls names libssl.so.3, to load it when TLS is asked for');
}

# the sealed DNS object exports our entry points and nothing else
my $sealed = "$top/common/mx_dns-sealed.o";
SKIP: {
  skip 'no sealed DNS object built', 2 unless -e $sealed;
  my @exported = sort keys %{ defined_globals($sealed) };
  ok(@exported && !(grep { !/^mx_dns_/ } @exported), 'the sealed DNS object exports only mx_dns_*')
    or diag "exported: @exported";
  my @inside = grep { /\bdns_transmit_start$/ } `nm '$sealed'`;
  ok(@inside, 'it does hold libowfat\'s DNS client (made local)');
}

# the check itself must catch the mistake it is there for
my $dir = tempdir(CLEANUP => 1);
open my $c, '>', "$dir/both.c" or die;
print $c <<'C';
#include <stddef.h>
extern size_t fmt_ulong(char *, unsigned long);   /* libowfat only */
extern int skagetln(void *, void *, char);        /* skalibs only */
int main(void) { char b[32]; void *f = (void *)&skagetln; return (int)fmt_ulong(b, 1) + (f == 0); }
C
close $c;
system("cc -o '$dir/both' '$dir/both.c' $skalibs $owfat 2>'$dir/err'") == 0
  or BAIL_OUT('cannot link the control program: ' . `cat '$dir/err'`);
my ($bad_sk, $bad_ow) = verdict("$dir/both");
ok($bad_sk && $bad_ow, 'a program linked raw with both libraries is caught');

done_testing;

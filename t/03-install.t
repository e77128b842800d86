#!/usr/bin/perl
# make install puts every program and manual page under DESTDIR/PREFIX,
# and nowhere else.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use FindBin;

my $top = "$FindBin::Bin/..";
my $dest = tempdir(CLEANUP => 1);
my $out = `make -C '$top' -s install DESTDIR='$dest' PREFIX=/opt/mxguard 2>&1`;
is($?, 0, 'make install DESTDIR=... PREFIX=... succeeds') or diag $out;

my @installed;
find({ no_chdir => 1, wanted => sub { push @installed, substr($_, length $dest) if -f $_ } }, $dest);
my @want = (
  (map { "/opt/mxguard/bin/$_" } qw(relaydb relaydb-check relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-make mxguard-report)),
  (map { "/opt/mxguard/share/man/man8/$_.8" } qw(relaydb relaydb-check relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-make mxguard-report)),
);
is_deeply([sort @installed], [sort @want], 'exactly the programs and manual pages, under the prefix');
ok(-x "$dest/opt/mxguard/bin/$_", "$_ is executable") for qw(relaydb relaydb-check relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-make mxguard-report);
my $usage = `'$dest/opt/mxguard/bin/relaydb' 2>&1`;
like($usage, qr/usage: relaydb/, 'the installed relaydb runs');
for my $m (qw(relaydb relaydb-check relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-make mxguard-report)) {
  my $page = `man -l '$dest/opt/mxguard/share/man/man8/$m.8' 2>/dev/null`;
  like($page, qr/EXIT CODES/, "$m.8 renders with an EXIT CODES section");
  like($page, qr/EXAMPLES/, "$m.8 has EXAMPLES");
}
done_testing;

#!/usr/bin/perl
# make install puts every program and manual page under DESTDIR/PREFIX,
# and nowhere else.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use File::Find;
use FindBin;
use lib "$FindBin::Bin/lib";
use MXRun;

my $top = "$FindBin::Bin/..";
my $dest = tempdir(CLEANUP => 1);
my $out = `make -C '$top' -s install DESTDIR='$dest' PREFIX=/opt/mxguard 2>&1`;
is($?, 0, 'make install DESTDIR=... PREFIX=... succeeds') or diag $out;

my @installed;
find({ no_chdir => 1, wanted => sub { push @installed, substr($_, length $dest) if -f $_ } }, $dest);
my @want = (
  (map { "/opt/mxguard/bin/$_" } qw(relaydb relaydb-check relaydb-check-sql relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-sql rcptchecks-make greydb smtp-tls proxy-env smtp-forward smtp-screen mxguard-report)),
  (map { "/opt/mxguard/share/man/man8/$_.8" } qw(relaydb relaydb-check relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-make greydb smtp-tls proxy-env smtp-forward smtp-screen mxguard-report)),
  (map { "/opt/mxguard/share/man/man7/$_.7" } qw(rcptchecks-recipients rcptchecks-envelope rcptchecks-session)),
);
is_deeply([sort @installed], [sort @want], 'exactly the programs and manual pages, under the prefix');
ok(-x "$dest/opt/mxguard/bin/$_", "$_ is executable") for qw(relaydb relaydb-check relaydb-check-sql relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-sql rcptchecks-make greydb mxguard-report);
my $usage = `'$dest/opt/mxguard/bin/relaydb' 2>&1`;
like($usage, qr/usage: relaydb/, 'the installed relaydb runs');
for my $m (qw(relaydb relaydb-check relaydb-rec smtp-delay rblenv rcptchecks rcptchecks-make greydb smtp-screen mxguard-report)) {
  my $page = `man -l '$dest/opt/mxguard/share/man/man8/$m.8' 2>/dev/null`;
  like($page, qr/EXIT CODES/, "$m.8 renders with an EXIT CODES section");
  like($page, qr/EXAMPLES/, "$m.8 has EXAMPLES");
}

# the static relaydb-check hands a SQL store over to relaydb-check-sql
# installed beside it (Connector/C then fails to reach a socket that is
# not there); without that build it says so, and fails closed
{
  my $bin = "$dest/opt/mxguard/bin";
  open my $cnf, '>', "$dest/my.cnf" or die "$dest/my.cnf: $!";
  print $cnf "[mxguard]\nsocket=$dest/no-such-socket\n";
  close $cnf;
  my %check = (env => { TCPREMOTEIP => '127.0.0.1', RELAYCLIENT => undef }, timeout => 20,
    argv => ["$bin/relaydb-check", '-g', 'mxguard', '-f', "$dest/my.cnf", '-T', '1',
      '/bin/sh', '-c', 'echo "child RELAYCLIENT=${RELAYCLIENT-unset}"']);
  my (undef, $out, $err) = run_cmd(%check);
  like($err, qr/store=sql result=error reason=unable to connect/, 'relaydb-check -g runs relaydb-check-sql, which loads Connector/C');
  like($out, qr/^child RELAYCLIENT=unset$/m, 'and execs its child, RELAYCLIENT unset');
  unlink "$bin/relaydb-check-sql" or die "unlink: $!";
  (undef, $out, $err) = run_cmd(%check);
  like($err, qr/store=sql result=error reason=the -sql build of the program is missing/, 'without relaydb-check-sql: said');
  like($out, qr/^child RELAYCLIENT=unset$/m, 'and the child runs, RELAYCLIENT unset');
}

done_testing;

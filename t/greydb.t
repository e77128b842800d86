#!/usr/bin/perl
# greydb on an LMDB store: load and dump round trip, list leaving out
# what is stale, delete of a triplet and of a network, allow, expire
# with -O settings, invalid lines (nothing loaded, the line named),
# invalid arguments, exit codes; and what rcptchecks does with records
# greydb wrote (an allowed network passes at once).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $greydb = "$top/rcptchecks/greydb";
plan skip_all => "$greydb not built" unless -x $greydb;
my $dir = tmpdir();
my @g = ($greydb, '-G', "$dir/g");
sub gdb { my ($stdin, @a) = @_; return run_cmd(argv => [@g, @a], stdin => $stdin // '') }

my $now = time;
my $recent = $now - 100;
my $old = $now - 40 * 86400;
my $text = join '', map { "$_\n" }
  "10.1.2.0/24 a\@b.example c\@d.example $recent 0 1",
  "10.1.2.0/24 <> c\@d.example $recent $recent 2",
  "2001:db8:1:2::/64 x%20y\@w.example z\@w.example $old $old 3",
  "192.0.2.0/24 5 $recent",
  "198.51.100.0/24 2 $old";

subtest 'load, dump, list' => sub {
  my ($rc, $out, $err) = gdb("# a comment\n\n$text", 'load');
  is($rc, 0, 'load') or diag $err;
  ($rc, $out, $err) = gdb(undef, 'dump');
  is($rc, 0, 'dump');
  is(join('', sort split /^/, $out), join('', sort split /^/, $text), 'dump gives back what was loaded');
  ($rc, $out) = gdb(undef, 'list');
  like($out, qr{^10\.1\.2\.0/24 a\@b\.example }m, 'list: a triplet waiting for its retry');
  unlike($out, qr{2001:db8}, 'list: not the pass older than the lifetime');
  unlike($out, qr{198\.51\.100}, 'nor the stale network');
  ($rc, $out) = gdb(undef, '-O', 'lifetime=' . (50 * 86400), 'list');
  like($out, qr{2001:db8:1:2::/64 }, 'with -O lifetime= of 50 days it is in force');
};

subtest 'invalid input changes nothing' => sub {
  for my $bad ("10.1.2.3/24 a b 1 2 3", "10.1.2.0/24 a b 5 4 1", "10.1.2.0/24 a  b 1 0 1", "10.1.2.0/33 1 2",
               "10.1.2.0/24 a b 1 0", "10.1.2.0/24 a b 1 0 99999999999999999999", "zz/24 1 2", "10.1.2.0/24 a\tb c 1 0 1") {
    my ($rc, $out, $err) = gdb("10.9.9.0/24 ok\@x.example y\@x.example 1 0 1\n$bad\n", 'load');
    is($rc, 100, "refused: $bad");
    like($err, qr/^greydb: fatal: invalid line 2: .* \(nothing loaded\)$/m, 'the line named');
  }
  my ($rc, $out) = gdb(undef, 'dump');
  unlike($out, qr/10\.9\.9\.0/, 'nothing of those loads was stored');
  for my $args (['delete', '10.1.2.3/24'], ['delete', '10.1.2.0/24', 'a'], ['allow', 'x'], ['expire', 'now'], ['bogus'], []) {
    ($rc) = gdb(undef, @$args);
    is($rc, 100, "usage: @$args");
  }
  ($rc) = run_cmd(argv => [$greydb, 'dump']);
  is($rc, 100, 'no store: usage');
  open my $fh, '>', "$dir/file" or die; close $fh;
  ($rc, $out, my $err) = run_cmd(argv => [$greydb, '-G', "$dir/file", 'dump']);
  is($rc, 111, 'a store that cannot be opened: 111');
  like($err, qr/^greydb: fatal: unable to open \Q$dir\E\/file: /, 'saying why');
};

subtest 'delete, allow, expire' => sub {
  my ($rc, $out, $err) = gdb(undef, 'delete', '10.1.2.0/24', 'a@b.example', 'c@d.example');
  is($rc, 0, 'delete a triplet');
  ($rc, $out, $err) = gdb(undef, 'delete', '10.1.2.0/24', 'a@b.example', 'c@d.example');
  is($rc, 0, 'again: nothing to delete, still 0');
  like($err, qr/no such record/, 'said so');
  ($rc) = gdb(undef, 'delete', '192.0.2.0/24');
  is($rc, 0, 'delete a network');
  ($rc) = gdb(undef, '-O', 'autoallow=7', 'allow', '203.0.113.0/24');
  is($rc, 0, 'allow');
  ($rc, $out) = gdb(undef, 'dump');
  unlike($out, qr{^10\.1\.2\.0/24 a\@}m, 'the triplet is gone');
  unlike($out, qr{^192\.0\.2\.0/24 }m, 'the network is gone');
  like($out, qr{^203\.0\.113\.0/24 7 \d+$}m, 'the allowed network: 7 passes, now');
  ($rc, $out, $err) = gdb(undef, 'expire');
  is($rc, 0, 'expire');
  like($err, qr/expired 2 records/, 'the old pass and the old network');
  ($rc, $out) = gdb(undef, 'dump');
  is(scalar(() = $out =~ /\n/g), 2, 'two records left') or diag $out;
};

subtest 'rcptchecks reads what greydb wrote' => sub {
  my $bin = "$top/rcptchecks/rcptchecks";
  my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/r.cdb");
  my $mta = exim_child();
  my ($rc, $out, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-d', '0', '-u', '0', '-E', 'greylist', '-G', "$dir/g", @{ $mta->argv }],
    env => { TCPREMOTEIP => '203.0.113.50', RELAYCLIENT => undef, RBLSCORE => undef, SMTPDELAY_CLASS => undef },
    stdin => "EHLO c.example\r\nMAIL FROM:<s\@x.example>\r\nRCPT TO:<alice\@example.org>\r\nQUIT\r\n");
  like($out, qr/^250 Accepted\r$/m, 'a client of the allowed network: accepted at once');
  like($err, qr/greylist=allowed$/m, 'greylist=allowed');
};

done_testing;

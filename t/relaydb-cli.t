#!/usr/bin/perl
# relaydb, the admin command: every verb and every bad input, run the same
# way against the directory store and the MariaDB store.
use strict;
use warnings;
use Test::More;
use Fcntl qw(O_RDWR);
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);
use lib 't/lib';
use MXTest;
use MXRun;

my $relaydb = top() . '/relaydb/relaydb';
my $now = time;

# runs relaydb with @store and @args, stdin from $in; (exit, out, err)
sub rdb {
  my ($store, $in, @args) = @_;
  return run_cmd(argv => [$relaydb, @$store, @args], stdin => $in, timeout => 30);
}

sub dump_of {
  my ($store) = @_;
  my ($rc, $out, $err) = rdb($store, '', 'dump');
  is($rc, 0, 'dump exits 0') or diag $err;
  return join '', sort split /^/, $out;
}

sub verbs_and_bad_input {
  my ($store) = @_;
  my ($rc, $out, $err);

  is(dump_of($store), '', 'a new store is empty');
  is((rdb($store, '', 'add', '192.0.2.7'))[0], 0, 'add IPv4 with the current time');
  is((rdb($store, '', 'add', '2001:DB8::1', '1000'))[0], 0, 'add IPv6 with ticks');
  is((rdb($store, '', 'add', '::ffff:198.51.100.9', '2000'))[0], 0, 'add an IPv4-mapped address');
  is((rdb($store, '', 'add', '203.0.113.5', $now + 86400))[0], 0, 'add a future timestamp');
  my $d = dump_of($store);
  like($d, qr/^192\.0\.2\.7 (\d+)\n/m, 'dump shows the IPv4 entry');
  my ($ts) = $d =~ /^192\.0\.2\.7 (\d+)$/m;
  ok($ts >= $now && $ts <= time + 1, 'add without ticks records the current time');
  like($d, qr/^2001:db8::1 1000$/m, 'IPv6 is stored in canonical form');
  like($d, qr/^198\.51\.100\.9 2000$/m, '::ffff:a.b.c.d is stored as a.b.c.d');
  like($d, qr/^203\.0\.113\.5 \d+$/m, 'dump shows future timestamps');

  ($rc, $out) = rdb($store, '', 'list');
  is(join('', sort split /^/, $out), join('', grep { !/^203\.0\.113\.5 / } sort split /^/, $d),
    'list without minutes shows all but future entries');
  ($rc, $out) = rdb($store, '', 'list', '5');
  is(join('', sort split /^/, $out), "198.51.100.9 2000\n2001:db8::1 1000\n",
    'list 5 shows only entries older than 5 minutes');

  is((rdb($store, '', 'add', '2001:db8::1', '3000'))[0], 0, 'add replaces an entry');
  like(dump_of($store), qr/^2001:db8::1 3000$/m, 'the replaced entry has the new timestamp');

  # round trip: what dump prints, load takes back unchanged
  my $before = dump_of($store);
  ($rc, undef, $err) = rdb($store, '', 'delete', '192.0.2.7', '2001:db8::1', '198.51.100.9', '203.0.113.5');
  is($rc, 0, 'delete several IPs') or diag $err;
  is(dump_of($store), '', 'all deleted');
  ($rc, undef, $err) = rdb($store, $before, 'load');
  is($rc, 0, 'load what dump printed') or diag $err;
  is(dump_of($store), $before, 'load restores the dump exactly');

  ($rc, undef, $err) = rdb($store, '', 'delete', '192.0.2.99');
  is($rc, 0, 'deleting an unknown IP is not an error');
  like($err, qr/no entry for 192\.0\.2\.99/, '... but it is reported');

  ($rc, undef, $err) = rdb($store, "# hand-edited\n\n  10.0.0.1\t1500  \r\n10.0.0.2 1600", 'load');
  is($rc, 0, 'load takes comments, blank lines, tabs, CRLF and a last line without newline') or diag $err;
  like(dump_of($store), qr/^10\.0\.0\.1 1500\n10\.0\.0\.2 1600$/m, 'hand-edited lines loaded');

  ($rc, undef, $err) = rdb($store, '', 'expire', '10');
  is($rc, 0, 'expire 10') or diag $err;
  is(dump_of($store), join('', grep { /^(192\.0\.2\.7|203\.0\.113\.5) / } split /^/, $before),
    'expire removed the old entries, kept the recent and the future one');

  # every refusal: exit 100, a clear message, the store untouched
  my $kept = dump_of($store);
  my @bad = (
    [['add'], qr/usage/, 'add without an IP'],
    [['add', '1.2.3.4', '5', '6'], qr/usage/, 'add with three arguments'],
    [['add', ''], qr/invalid IP/, 'empty IP'],
    [['add', '1.2.3'], qr/invalid IP/, 'three octets'],
    [['add', '256.1.1.1'], qr/invalid IP/, 'octet over 255'],
    [['add', '01.2.3.4'], qr/invalid IP/, 'leading zero'],
    [['add', 'fe80::1%eth0'], qr/invalid IP/, 'scoped IPv6'],
    [['add', '2001:db8::g'], qr/invalid IP/, 'bad hex'],
    [['add', "1.2.3.4\n"], qr/invalid IP/, 'newline in IP'],
    [['add', 'x' x 5000], qr/invalid IP address: x{64}$/m, 'huge argument (echoed cut to 64 bytes)'],
    [['add', "\x01\xff;rm"], qr/invalid IP address: \?\?;rm/, 'control and 8-bit bytes echoed as ?'],
    [['add', '1.2.3.4', '-5'], qr/invalid timestamp/, 'negative timestamp'],
    [['add', '1.2.3.4', '+5'], qr/invalid timestamp/, 'signed timestamp'],
    [['add', '1.2.3.4', '99999999999999999999999'], qr/invalid timestamp/, 'overflowing timestamp'],
    [['add', '1.2.3.4', '18446744073709551616'], qr/invalid timestamp/, '2^64'],
    [['add', '1.2.3.4', '253402300800'], qr/invalid timestamp/, 'past 9999-12-31'],
    [['add', '1.2.3.4', '12abc'], qr/invalid timestamp/, 'trailing letters'],
    [['add', '1.2.3.4', ''], qr/invalid timestamp/, 'empty timestamp'],
    [['delete'], qr/usage/, 'delete without an IP'],
    [['delete', '192.0.2.7', 'bogus'], qr/invalid IP address: bogus/, 'delete with one bad IP deletes nothing'],
    [['expire', '-1'], qr/invalid number of minutes/, 'negative minutes'],
    [['expire', 'abc'], qr/invalid number of minutes/, 'minutes not a number'],
    [['expire', '99999999999'], qr/invalid number of minutes/, 'minutes overflow'],
    [['list', '1', '2'], qr/usage/, 'list with two arguments'],
    [['dump', 'x'], qr/usage/, 'dump with an argument'],
    [['frobnicate'], qr/usage/, 'unknown verb'],
    [[], qr/usage/, 'no verb'],
  );
  for my $b (@bad) {
    my ($args, $re, $name) = @$b;
    ($rc, undef, $err) = rdb($store, '', @$args);
    is($rc, 100, "$name: exit 100");
    like($err, $re, "$name: message");
  }
  my @badload = (
    ["10.9.9.9 1\n10.9.9.8 2\nbogus 3\n", qr/line 3: invalid IP/, 'bad IP on line 3'],
    ["10.9.9.9 1\n10.9.9.8\n", qr/line 2: missing timestamp/, 'missing timestamp'],
    ["10.9.9.9 -1\n", qr/line 1: invalid timestamp/, 'negative timestamp'],
    ["10.9.9.9 99999999999999999999999\n", qr/line 1: invalid timestamp/, 'overflowing timestamp'],
    ["10.9.9.9 1 2\n", qr/line 1: trailing garbage/, 'three fields'],
    ["10.9.9.9 1\n10.9.9.8 2\0\n", qr/line 2: NUL byte/, 'NUL byte'],
    ["10.9.9.9 1\n" . ('9' x 1_000_000) . "\n", qr/line 2: line too long/, 'a 1 MB line'],
    ["10.9.9.9 1\n" . ('a' x 257), qr/line 2: line too long/, 'a long last line without newline'],
  );
  for my $b (@badload) {
    my ($in, $re, $name) = @$b;
    ($rc, undef, $err) = rdb($store, $in, 'load');
    is($rc, 100, "load, $name: exit 100");
    like($err, qr/$re.*nothing loaded/, "load, $name: message names the line");
  }
  is(dump_of($store), $kept, 'no refused command changed the store');
}

subtest 'directory store' => sub {
  my $dir = tmpdir();
  verbs_and_bad_input(['-d', $dir]);
  my @left = grep { !/^(\d|[0-9a-f:]+$)/ } map { s{.*/}{}r } glob("$dir/.* $dir/*");
  is_deeply([grep { !/^\.\.?$/ } @left], [], 'no temp files left in the directory');
  my ($rc, undef, $err) = rdb(['-d', "$dir/missing"], '', 'dump');
  is($rc, 111, 'a missing directory: exit 111');
  like($err, qr/unable to open directory .*missing/, '... with the directory named');
  ($rc) = rdb(['-d', $dir, '-g', 'x'], '', 'dump');
  is($rc, 100, '-d and -g together: usage error');
  ($rc) = rdb(['-d', $dir, '-f', '/etc/my.cnf'], '', 'dump');
  is($rc, 100, '-f without -g: usage error');
};

# Entries that are not regular files: opening a FIFO for reading waits
# for a writer, and reading one whose writer never writes waits forever;
# a directory, a socket, a device or a symlink is no entry either. Every
# verb must finish at once: list and dump skip them, expire removes what
# unlink can remove and leaves a directory where it is, delete removes.
subtest 'directory store: entries that are not regular files' => sub {
  my $dir = tmpdir();
  my $quick = sub { run_cmd(argv => [$relaydb, '-d', $dir, @_], timeout => 10) };
  my ($rc, $out, $err) = $quick->('add', '192.0.2.1', '1000');
  is($rc, 0, 'a regular old entry') or diag $err;
  ($rc, undef, $err) = $quick->('add', '192.0.2.2', time);
  is($rc, 0, 'a regular fresh entry') or diag $err;

  my %odd = (fifo => '127.0.0.9', held => '127.0.0.10', dir => '127.0.0.11',
             link => '127.0.0.12', sock => '127.0.0.13', dev => '2001:db8::9');
  POSIX::mkfifo("$dir/$odd{fifo}", 0644) or die "mkfifo: $!";
  # a FIFO with a writer that never writes: a reader that got past open
  # would wait in read
  POSIX::mkfifo("$dir/$odd{held}", 0644) or die "mkfifo: $!";
  sysopen(my $hold, "$dir/$odd{held}", O_RDWR) or die "open FIFO: $!";
  mkdir "$dir/$odd{dir}" or die "mkdir: $!";
  my $target = tmpdir() . '/entry';
  open my $fh, '>', $target or die; print $fh "1000\n"; close $fh;
  symlink $target, "$dir/$odd{link}" or die "symlink: $!";
  my $sock = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => "$dir/$odd{sock}", Listen => 1)
    or die "socket: $!";
  my $dev = system('mknod', "$dir/$odd{dev}", 'c', '1', '3') == 0;   # /dev/null's numbers

  for my $verb (['dump'], ['list'], ['list', '5']) {
    ($rc, $out, $err) = $quick->(@$verb);
    is($rc, 0, "@$verb: exits 0 at once") or diag $err;
    like($out, qr/^192\.0\.2\.1 1000$/m, "@$verb: the regular entry is shown");
    unlike($out, qr/^(?:\Q$_\E) /m, "@$verb: $_ is skipped") for values %odd;
  }

  ($rc, undef, $err) = $quick->('expire', '10');
  is($rc, 0, 'expire 10: exits 0 at once') or diag $err;
  ok(!-e "$dir/192.0.2.1", 'expire: the old regular entry is removed');
  ok(-f "$dir/192.0.2.2", 'expire: the fresh regular entry is kept');
  ok(!-e "$dir/$odd{$_}" && !-l "$dir/$odd{$_}", "expire: the $_ ($odd{$_}) is removed")
    for grep { $dev || $_ ne 'dev' } qw(fifo held link sock dev);
  ok(-d "$dir/$odd{dir}", 'expire: the directory is left where it is (unlink cannot remove it)');
  is(-e $target && slurp($target), "1000\n", 'expire: the symlink\'s target is untouched');
  my @hidden = grep { !/^\.\.?$/ } map { s{.*/}{}r } glob("$dir/.*");
  is_deeply(\@hidden, [], 'expire: nothing left under a temporary name');

  # delete removes a FIFO like any entry
  unlink "$dir/$odd{fifo}";
  POSIX::mkfifo("$dir/$odd{fifo}", 0644) or die "mkfifo: $!";
  ($rc, undef, $err) = $quick->('delete', $odd{fifo});
  is($rc, 0, 'delete of a FIFO: exits 0 at once') or diag $err;
  ok(!-e "$dir/$odd{fifo}", '... and it is gone');
  close $hold;
};

subtest 'MariaDB store' => sub {
  my $db = start_mariadb();
  my @store = ('-g', $db->group, '-f', $db->cnf);
  verbs_and_bad_input(\@store);

  my ($rc, undef, $err) = rdb(['-g', 'nosuchgroup', '-f', $db->cnf], '', 'dump');
  is($rc, 111, 'an option group that does not exist: exit 111');

  # MariaDB dies in the middle of a long load: exit 111, nothing applied
  my $before = dump_of(\@store);
  my $big = join '', map { sprintf "10.%d.%d.%d %d\n", $_ >> 16, ($_ >> 8) & 255, $_ & 255, 5000 } 1 .. 300_000;
  my $job = start_cmd(argv => [$relaydb, @store, 'load'], stdin => $big);
  wait_until(20, sub { $db->sql("SELECT COUNT(*) FROM information_schema.processlist WHERE user = 'mxtest'") =~ /[1-9]/ },
    'relaydb load connected');
  select undef, undef, undef, 0.3;
  $db->kill;
  ($rc, undef, $err) = $job->finish(60);
  is($rc, 111, 'MariaDB killed during load: exit 111');
  like($err, qr/MariaDB|server|connection/i, '... with a clear message') or diag $err;
  ($rc, undef, $err) = rdb(\@store, '', 'dump');
  is($rc, 111, 'MariaDB down: dump exits 111');
  like($err, qr/unable to connect \(MariaDB group mxtest\)/, '... and says it cannot connect') or diag $err;
  $db->start;
  is(dump_of(\@store), $before, 'after restart: the interrupted load left nothing behind');
  $db->stop;
};

done_testing;

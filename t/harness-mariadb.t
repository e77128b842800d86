#!/usr/bin/perl
# MXTest::start_mariadb with the real MariaDB: a private server starts
# in seconds, ->sql works, the [mxtest] group of the option file logs the
# unprivileged user mxtest in with a real password (a wrong one is
# refused: no --skip-grant-tables), data survives a SIGKILL and a
# restart, stop shuts down cleanly, and two servers do not collide.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;
use MXRun;

my $t0 = time;
my $db = start_mariadb();
my $took = time - $t0;
# < 60: a fresh datadir on a loaded machine takes tens of seconds; a
# mariadbd that never comes up fails in start() itself
ok($took < 60, sprintf q{started in %.1f s}, $took);
ok(-S $db->socket, 'the socket exists: ' . $db->socket);
is($db->group, 'mxtest', 'group mxtest');

$db->sql('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB');
$db->sql("INSERT INTO t VALUES (1, 'one'), (2, 'two')");
is($db->sql('SELECT id, v FROM t ORDER BY id'), "1\tone\n2\ttwo\n", '->sql: rows in, rows out');
ok(!eval { $db->sql('SELECT nonsense FROM nowhere'); 1 }, '->sql dies on an SQL error');
like($@, qr/doesn't exist/, '... with the server\'s message');

# The option file as the programs under test read it (group [mxtest]).
# The mariadb client reads only its own groups ([client], [mysql], and
# [clientSUFFIX] with --defaults-group-suffix), never [mxtest]: so the
# group is expanded by my_print_defaults, MariaDB's own option file
# parser, and handed over after --no-defaults.
sub as_group {
  my ($cnf, $sql) = @_;
  my ($rc, $opts, $err) = run_cmd(argv => ['/usr/bin/my_print_defaults', "--defaults-file=$cnf", 'mxtest']);
  die "my_print_defaults: $err" if $rc;
  return run_cmd(argv => ['/usr/bin/mariadb', '--no-defaults', split(/\n/, $opts), '--batch', '--skip-column-names', '-e', $sql]);
}
my ($rc, $out, $err) = as_group($db->cnf, 'SELECT CURRENT_USER(), DATABASE(); INSERT INTO t VALUES (3, "three")');
is($rc, 0, 'the [mxtest] group connects') or diag $err;
is($out, "mxtest\@localhost\tmxtest\n", '... as the user mxtest, in the database mxtest');
($rc, undef, $err) = as_group($db->cnf, 'SELECT COUNT(*) FROM mysql.user');
isnt($rc, 0, 'mxtest is unprivileged: no access to mysql.user');
like($err, qr/denied/, '... access denied');

my $bad = tmpdir() . '/bad.cnf';
{
  open my $in, '<', $db->cnf or die;
  (my $text = do { local $/; <$in> }) =~ s/^password=.*$/password=wrong/m;
  open my $to, '>', $bad or die;
  print {$to} $text;
  close $to or die;
}
($rc, undef, $err) = as_group($bad, 'SELECT 1');
isnt($rc, 0, 'a wrong password is refused');
like($err, qr/Access denied for user 'mxtest'/, '... by the server');

# crash and restart
my $pid = $db->pid;
$db->kill;
ok(!kill(0, $pid), '->kill: mariadbd is gone');
ok(!eval { $db->sql('SELECT 1'); 1 }, 'down: ->sql fails');
($rc) = as_group($db->cnf, 'SELECT 1');
isnt($rc, 0, 'down: the option file user cannot connect');
$t0 = time;
$db->start;
# < 60: crash recovery on a loaded machine (see the start above)
ok(time - $t0 < 60, sprintf q{restarted after the crash in %.1f s}, time - $t0);
is($db->sql('SELECT id FROM t ORDER BY id'), "1\n2\n3\n", 'the data survived the crash');
is((as_group($db->cnf, 'SELECT COUNT(*) FROM t'))[1], "3\n", 'the user and password survived too');

# two servers side by side
my $db2 = start_mariadb();
isnt($db2->socket, $db->socket, 'a second server has its own socket');
$db2->sql('CREATE TABLE t (x INT)');
is($db2->sql('SELECT COUNT(*) FROM t'), "0\n", '... and its own data');
$db2->stop;

# clean shutdown, then start again
$pid = $db->pid;
$db->stop;
ok(!kill(0, $pid), '->stop: mariadbd is gone');
like($db->log_text, qr/Shutdown complete/, '... after a clean shutdown');
$db->start;
is($db->sql('SELECT COUNT(*) FROM t'), "3\n", 'started again after stop: data there');
$db->stop;

done_testing;

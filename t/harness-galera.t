#!/usr/bin/perl
# The Galera helper (t/lib/MXGalera.pm): three nodes on loopback sync,
# a row written on one is read on the others, a killed node rejoins and
# catches up (IST), and every node stops at the end.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXGalera;

plan skip_all => 'galera-4 is not installed' unless -e '/usr/lib/galera/libgalera_smm.so';
my $g = start_galera(nodes => 3);
is($g->status($_, 'wsrep_local_state_comment'), 'Synced', "node$_ Synced") for 1 .. 3;
is($g->status(1, 'wsrep_cluster_size'), 3, 'a cluster of three');
$g->sql(1, 'CREATE TABLE t (k INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO t VALUES (1, "one");');
is($g->sql(2, 'SET SESSION wsrep_sync_wait = 1; SELECT v FROM t WHERE k = 1;'), "one\n", 'written on node1, read on node2');
$g->kill(3);
ok($g->wait_synced(30), 'two nodes go on without the third');
$g->sql(2, 'INSERT INTO t VALUES (2, "two");');
$g->start(3);
ok($g->wait_synced(90), 'the third rejoins');
like(substr(MXTest::_slurp($g->dir . '/n3/error.log'), -20000), qr/IST received|Receiving IST|IST request/, 'by incremental state transfer');
is($g->sql(3, 'SET SESSION wsrep_sync_wait = 1; SELECT v FROM t WHERE k = 2;'), "two\n", 'and has what was written meanwhile');
my @pids = map { $g->pid($_) } 1 .. 3;
$g->stop_all;
ok(!grep({ kill 0, $_ } @pids), 'every node stopped');
done_testing;

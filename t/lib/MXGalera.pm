package MXGalera;
# A MariaDB Galera cluster on loopback for a test: Debian's galera-4 with
# mariadb-server, each node with its own data directory, socket and
# ports (client, group communication, IST, SST), in a temporary
# directory under /tmp; SST by rsync. The first node bootstraps the
# cluster, the others join it; start_galera returns once every node
# says Synced (bounded), and the nodes are stopped at the end.
#
#   my $g = start_galera(nodes => 3);
#   $g->cnf;  $g->group($i)  (option file and group "node$i": socket,
#                             user mxtest, its password, database mxtest,
#                             and init-command=SET SESSION wsrep_sync_wait=1:
#                             a read waits for what other nodes committed)
#   $g->groups               ("node1,node2,node3": every node, in order)
#   $g->sql($i, $statements) (as root, database mxtest)
#   $g->status($i, $var)     (SHOW STATUS, or undef when it is down)
#   $g->kill($i); $g->stop($i); $g->start($i); $g->wait_synced($timeout)
#
# The nodes run as the mysql user (the package's): the rsync daemon of a
# state transfer must be able to write the joiner's data directory.
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h);
use MXTest;

our @EXPORT = qw(start_galera);

my @SMALL = qw(--innodb-buffer-pool-size=16M --innodb-log-file-size=4M --skip-log-bin --skip-name-resolve);

sub start_galera {
  my (%a) = @_;
  my $n = $a{nodes} // 3;
  my $dir = tempdir('mxgal-XXXXXXXX', DIR => '/tmp', CLEANUP => 1);
  my ($uid, $gid) = (getpwnam 'mysql')[2, 3];
  defined $uid or die "no user mysql (is mariadb-server installed?)";
  chmod 0755, $dir or die;
  my $self = bless { dir => $dir, n => $n, nodes => [], uid => $uid, gid => $gid, owner => $$,
    password => join('', map { sprintf '%02x', int rand 256 } 1 .. 12) }, 'MXGalera::Cluster';
  my @ports = map { [map { MXTest::free_port('127.0.0.1') } 1 .. 4] } 1 .. $n;
  my $gcomm = 'gcomm://' . join ',', map { "127.0.0.1:$_->[1]" } @ports;
  for my $i (1 .. $n) {
    my $d = "$dir/n$i";
    mkdir $d or die; mkdir "$d/tmp" or die;
    chown $uid, $gid, $d, "$d/tmp" or die "chown $d: $!";
    my ($client, $gc, $ist, $sst) = @{ $ports[$i - 1] };
    $self->{nodes}[$i] = { dir => $d, socket => "$d/sock", errlog => "$d/error.log", argv => [
      '/usr/sbin/mariadbd', '--no-defaults', "--datadir=$d/data", "--tmpdir=$d/tmp", "--socket=$d/sock",
      "--port=$client", '--bind-address=127.0.0.1', '--user=mysql', "--pid-file=$d/mariadbd.pid",
      "--log-error=$d/error.log", @SMALL,
      '--binlog-format=ROW', '--default-storage-engine=InnoDB', '--innodb-autoinc-lock-mode=2',
      '--wsrep-on=ON', '--wsrep-provider=/usr/lib/galera/libgalera_smm.so', '--wsrep-cluster-name=mxtest',
      "--wsrep-node-name=node$i", "--wsrep-cluster-address=$gcomm", "--wsrep-node-address=127.0.0.1:$gc",
      "--wsrep-provider-options=gmcast.listen_addr=tcp://127.0.0.1:$gc;ist.recv_addr=127.0.0.1:$ist;gcache.size=32M",
      '--wsrep-sst-method=rsync', "--wsrep-sst-receive-address=127.0.0.1:$sst"] };
    my ($rc, $out) = MXTest::_run(timeout => 60, merge => 1, argv => ['/usr/bin/mariadb-install-db', '--no-defaults',
      "--datadir=$d/data", "--tmpdir=$d/tmp", '--user=mysql', '--auth-root-authentication-method=normal',
      '--skip-test-db', @SMALL]);
    die "mariadb-install-db failed ($rc): $out" if $rc;
  }
  system('chown', '-R', "$uid:$gid", $dir) == 0 or die "chown $dir";
  $self->start(1, bootstrap => 1);
  $self->start($_) for 2 .. $n;
  $self->wait_synced(120) or die "the cluster did not sync within 120s:\n" . join '', map { $self->log_tail($_) } 1 .. $n;
  $self->sql(1, "CREATE DATABASE mxtest;
    CREATE USER 'mxtest'\@'localhost' IDENTIFIED BY '$self->{password}';
    GRANT ALL ON mxtest.* TO 'mxtest'\@'localhost';", 'mysql');
  MXTest::_write("$dir/my.cnf", join '', map {
    "[node$_]\nsocket=$self->{nodes}[$_]{socket}\nuser=mxtest\npassword=$self->{password}\ndatabase=mxtest\n"
    . "init-command=SET SESSION wsrep_sync_wait=1\n\n" } 1 .. $n);
  chmod 0644, "$dir/my.cnf";
  return $self;
}

package MXGalera::Cluster {
  sub cnf    { "$_[0]{dir}/my.cnf" }
  sub group  { "node$_[1]" }
  sub groups { join ',', map { "node$_" } 1 .. $_[0]{n} }
  sub socket { $_[0]{nodes}[$_[1]]{socket} }
  sub dir    { $_[0]{dir} }
  sub pid    { $_[0]{nodes}[$_[1]]{pid} }

  sub log_tail {
    my ($self, $i) = @_;
    my $t = MXTest::_slurp($self->{nodes}[$i]{errlog});
    return "--- node$i:\n" . substr($t, -3000) . "\n";
  }

  # runs mariadbd for node $i; bootstrap => 1 starts a new cluster
  sub start {
    my ($self, $i, %o) = @_;
    my $node = $self->{nodes}[$i];
    die "node$i is running" if $node->{pid};
    my @argv = @{ $node->{argv} };
    push @argv, '--wsrep-new-cluster' if $o{bootstrap};
    $node->{pid} = MXTest::_spawn(argv => \@argv);
    # up when it answers on its socket (a joiner only after its state transfer)
    my $up = MXTest::_poll(90, sub {
      return 1 unless MXTest::_alive($node->{pid});
      my ($rc) = MXTest::_run(timeout => 10, argv => ['/usr/bin/mariadb-admin', '--no-defaults',
        "--socket=$node->{socket}", '--user=root', '--connect-timeout=2', 'ping']);
      return $rc == 0;
    }) && MXTest::_alive($node->{pid});
    die "node$i did not start within 90s:\n" . $self->log_tail($i) unless $up;
  }

  sub _down {
    my ($self, $i, $signal, $grace) = @_;
    my $pid = delete $self->{nodes}[$i]{pid} or return;
    CORE::kill $signal, -$pid;
    MXTest::_stop_group($pid, $grace);
  }
  sub kill { $_[0]->_down($_[1], 'KILL', 5) }
  sub stop { $_[0]->_down($_[1], 'TERM', 60) }
  sub stop_all { my ($self) = @_; $self->stop($_) for reverse 1 .. $self->{n} }

  sub status {
    my ($self, $i, $var) = @_;
    return undef unless $self->{nodes}[$i]{pid};
    my ($rc, $out) = MXTest::_run(timeout => 10, argv => ['/usr/bin/mariadb', '--no-defaults',
      "--socket=$self->{nodes}[$i]{socket}", '--user=root', '--connect-timeout=2', '--batch', '--skip-column-names',
      '-e', "SHOW STATUS LIKE '$var'"]);
    return undef if $rc;
    return $out =~ /^\Q$var\E\t(.*)$/m ? $1 : undef;
  }

  # every running node Synced, in a cluster of all running nodes
  sub wait_synced {
    my ($self, $timeout) = @_;
    my @up = grep { $self->{nodes}[$_]{pid} } 1 .. $self->{n};
    return MXTest::_poll($timeout // 60, sub {
      for my $i (@up) {
        return 0 unless ($self->status($i, 'wsrep_local_state_comment') // '') eq 'Synced';
        return 0 unless ($self->status($i, 'wsrep_cluster_size') // 0) == @up;
      }
      return 1;
    });
  }

  sub sql {
    my ($self, $i, $statements, $database) = @_;
    my ($rc, $out, $err) = MXTest::_run(timeout => 60, stdin => $statements,
      argv => ['/usr/bin/mariadb', '--no-defaults', "--socket=$self->{nodes}[$i]{socket}", '--user=root',
        '--database=' . ($database // 'mxtest'), '--batch', '--skip-column-names']);
    die "SQL on node$i failed ($rc): $err\nin: $statements\n" if $rc;
    return $out;
  }

  sub DESTROY { local ($., $@, $!, $^E, $?) ; $_[0]->stop_all if $$ == $_[0]{owner} }
}

1;

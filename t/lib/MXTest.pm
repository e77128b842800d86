package MXTest;

=head1 NAME

MXTest - start and stop real components (tcpserver, tinydns, MariaDB,
exim4, swaks) for the mxguard tests, with bounded waits and guaranteed
cleanup.

=head1 SYNOPSIS

  use lib 't/lib';
  use MXTest;

  my $dns  = start_tinydns(data => ".example.org::\n=host.example.org:127.0.0.1\n");
  my $db   = start_mariadb();
  my $mta  = exim_child();
  my $smtp = start_tcpserver(opts => ['-R', '-H', '-l0'],
                             env  => {DNSCACHEIP => $dns->ip},
                             argv => $mta->argv);
  my ($rc, $transcript) = swaks(server => $smtp, opts => ['--to', 'a@example.org']);
  my $c = smtp_connect($smtp->ip, $smtp->port);
  $c->expect(qr/^220 /);

=head1 RULES THE HELPERS KEEP

Everything binds to 127.0.0.0/8 or ::1. Addresses are random 127.X.Y.Z
(X, Y, Z in 1..254: Linux routes all of 127/8 to lo), so test files run
in parallel (prove -j2) never collide on an address, a port or port 53.
A test that needs a fixed port (one a server must bind again after a
restart, or one shared 127.0.0.1 address) takes it from free_port(),
which keeps it reserved for the whole test.

Every wait is bounded: a helper that cannot get its component up dies
with the reason and the component's log; wait_until() fails the test.

Every background process is started in a session of its own (setsid), so
that its whole process group (tcpserver and the programs it runs, exim's
delivery processes) can be signalled: stop() sends SIGTERM to the group,
then SIGKILL to whatever is left after a grace period. Whatever the test
did not stop is stopped the same way at exit (END, including after die),
and on SIGINT, SIGTERM and SIGHUP. On x86_64 Linux each server also gets
SIGKILL from the kernel if the test process itself is killed with
SIGKILL (PR_SET_PDEATHSIG): then the servers still die, though a
program tcpserver was running for an open connection runs on until it
ends, and the temporary directories stay.

Loading MXTest installs handlers for SIGINT, SIGTERM and SIGHUP (clean
up, then exit 128+signal) and a no-op handler for SIGPIPE, so that a test
writing into a connection the server has closed gets EPIPE instead of
dying without cleanup. A Perl handler, unlike 'IGNORE', is reset by
exec(), so the programs under test still run with the default SIGPIPE.

Temporary directories are File::Temp's and are removed at exit.

Needs root: tinydns binds port 53, MariaDB runs as root, exim4 -C.

=head1 FUNCTIONS

=head2 top()

The repository root (the directory containing t/), absolute.

=head2 tmpdir()

A new temporary directory (mode 0700), removed at exit.

=head2 loopback_ip()

A random 127.X.Y.Z (X, Y, Z in 1..254) with no TCP or UDP socket bound
to it (per /proc/net), never the same twice in one test process. Usable
both as a server address and as a client's source address.

=head2 silent_resolver()

A DNS server that never answers: ($ip, $socket), a UDP socket bound to
port 53 of a new loopback_ip(); what was sent to it can be read from
$socket.

=head2 free_port($ip)

A TCP port free on $ip, reserved for this test process until it exits,
so that a server the test stops may bind it again later (a restarted
MariaDB node) and no parallel test can have taken it meanwhile:

=over

=item *

it comes from the 8192 ports below the kernel's ephemeral range
(/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default): the
kernel never hands one of them out to a bind to port 0 or as the source
port of a connection;

=item *

it is held by an exclusive flock(2) on /tmp/mxtest-ports/PORT, kept
open until the test process exits (closed on exec, so only the test
itself holds it; the kernel drops it if the test dies, even by
SIGKILL): no other test process on this host, in any clone, gets it
from free_port meanwhile.

=back

Every test that needs a port of its own takes it here.
start_tcpserver() does not need it: without port it lets tcpserver pick.

=head2 wait_until($timeout_seconds, sub { ... }, $what)

Calls the sub every few milliseconds until it returns true; returns 1.
After $timeout_seconds it fails the test ("timed out after Ns waiting
for: $what") and returns 0.

=head2 make_cdb($kind, $text, $path)

Builds a CDB from the text $text with the tool its kind reads:
'recipients' (rcptchecks-make, rcptchecks' recipient list), 'senders'
(rcptchecks-make -s, a sender access list) or 'rules' (tcprules, for
tcpserver -x). Written to $path (default: KIND.cdb in a new tmpdir)
by way of $path.tmp, as the tools do. Returns $path; dies with the
tool's message if it refuses the text.

=head2 start_tcpserver(ip => ..., port => ..., opts => [...], env => {...}, argv => [...], log => $path)

Runs C</usr/bin/tcpserver -v -1 @opts $ip $port @argv> and returns once
tcpserver listens. ip defaults to a new loopback_ip() ('::1' works too);
port defaults to 0 (tcpserver picks a free one; -1 makes it tell us).
env: variables for tcpserver and its children (undef deletes one). The
stderr of tcpserver and of every program it runs is appended to log
(default: a file in a new tmpdir).

Returns an object: ->ip, ->port, ->pid, ->log (path), ->log_text (its
contents now), ->stop (TERM then KILL the group, idempotent).

What this tcpserver (ucspi-tcp-ipv6 1:0.88-7, fefe's IPv6 patch) gives
the program it runs:

  IPv4 client of a 127.x server: PROTO=TCP  TCPREMOTEIP=127.3.4.5
      TCPLOCALIP=127.9.9.9  TCP6REMOTEIP=::ffff:127.3.4.5 (also set)
  IPv6 client of a ::1 server:   PROTO=TCP6 TCPREMOTEIP=::1
      TCPLOCALIP=::1  TCP6REMOTEIP=::1
  With -l0: TCPLOCALHOST=0. With -H: no TCPREMOTEHOST.

An IPv4 address is served from an AF_INET6 socket bound to the mapped
address, so the "ok" log line shows ::ffff:127.x.y.z while the "pid N
from" line and TCPREMOTEIP show the plain dotted quad.

=head2 start_tinydns(data => $text)

Writes $text as tinydns-data's "data" file, builds data.cdb, and runs
/usr/sbin/tinydns with IP=<new loopback_ip()>, ROOT=<its directory>,
UID=0, GID=0: it answers on UDP port 53 of that address. Dies if
tinydns-data rejects the data (with its message) or tinydns does not
start. tinydns answers only for names inside a zone of the data (a
".zone::" or "&zone::" line, e.g. ".in-addr.arpa::", ".example.org::");
a query outside every zone gets no answer at all and the client times
out. Lines: "=name:ip" A+PTR, "+name:ip" A only, "^name:target" PTR,
"'name:text" TXT, "Cname:target" CNAME, "@name:ip:x" MX.

Returns an object: ->ip (for DNSCACHEIP or dnsq), ->pid, ->log_text
(tinydns' query log), ->reload(data => $text) (rebuilds data.cdb
atomically; tinydns opens data.cdb per query, so the new data is live
when reload returns), ->stop.

=head2 start_mariadb()

A private MariaDB server: a new directory under /tmp holding the data
directory (mariadb-install-db), the socket, the error log and a tmpdir
of its own, a mariadbd on that Unix socket only (--skip-networking),
a database mxtest,
a user 'mxtest'@'localhost' with a random password and all privileges
on mxtest.*, and an option file with the group [mxtest] (socket, user,
password, database) for the programs under test. About one second.

Returns an object: ->socket, ->cnf (option file), ->group ('mxtest'),
->password, ->pid, ->log_text (error log), ->sql($statements,
$database) (run by the mariadb client as root, in the database mxtest
unless $database is given, --batch --skip-column-names: tab-separated
rows, one per line; returns the output; dies with the client's message
on error),
->stop (SIGTERM: clean shutdown, bounded), ->kill (SIGKILL: a crash),
->start (again on the same data directory and socket).

The mariadb command line client reads only its own groups ([client],
[mysql], ...; --defaults-group-suffix=S adds [clientS] etc.), never a
group named [mxtest]: to use ->cnf with it, expand the group with
C<my_print_defaults --defaults-file=CNF mxtest> and pass the options
after --no-defaults.

=head2 make_cert($dir, $cn)

A self-signed certificate for $cn (RSA 2048, two days) made by the
openssl command: writes $dir/$cn.pem and $dir/$cn.key; returns both
paths.

=head2 exim_child($dir, auth => 1, tls => 1)

Writes an exim4 configuration for "exim4 -bs" (SMTP on stdin/stdout,
as under tcpserver) run as root, from package/exim4-chain.conf: spool,
logs and mail under $dir (default: a new tmpdir; made 0711 so that the
exim user can reach it), accepts any local part at example.org and
example.net, refuses every other recipient with "550 relay not
permitted" unless RELAYCLIENT is set (then it accepts it and delivers
it into the same Maildir, as if relayed), and delivers each
message at once (-odi, no daemon, no queue runner) into the Maildir
$dir/mail (one file per message, CRLF line ends as on the wire).

$dir may be left out (exim_child(auth => 1)). Options, each changing
only the generated copy of the configuration:

  auth => 1   appends an authenticator: AUTH PLAIN (advertised, no TLS
              needed) with the one user "mxtest", password
              "mxtest-secret" (->auth_user, ->auth_password); exim
              answers 235 to it and 535 to anything else
  local_domains => 'a : b'
              exim's local domains instead of example.org : example.net
              (exim's list syntax: "@[]" is any literal of the host's
              own addresses)
  literals => 1
              allow_domain_literals = true (RCPT TO:<box@[127.0.0.1]>)
  tls => 1    advertises STARTTLS (tls_advertise_hosts = *; exim makes
              itself a self-signed certificate), for tests of what a
              proxy does with it; nothing here completes a handshake

Returns an object: ->argv (['/usr/sbin/exim4', '-C', $config, '-bs',
'-odi'], the end of a chain: exim takes the client's address from its
stdin when that is the client's socket, and is a local submission
behind a link that runs it on pipes), ->chain_argv (examples/service/
smtpd/exim4-smtpd run as Debian-exim with -C $config -odi: exim is told
the client's address, name and the local address from tcpserver's
environment, as behind the whole chain), ->dir, ->messages (paths of the delivered
messages, oldest first), ->message_bodies (each message's bytes after
the blank line ending its header), ->wait_messages($n, $timeout)
(waits until at least $n messages are delivered; returns ->messages,
fails the test on timeout), ->log_text (exim's main, reject and panic
logs), ->panic_text (the panic log alone, '' if there is none),
->received($file) (the Received: header exim put at the top of a
delivered message, continuation lines included).

Why it works: Debian's exim4 is built with TRUSTED_CONFIG_LIST
/etc/exim4/trusted_configs (absent) and "Fixed never_users: 0". An
untrusted -C file makes exim give up its setuid privilege, which changes
nothing when the caller is root, but exim still opens its logs and
spool as the exim user (Debian-exim) and may not deliver as root. So the
spool, log and mail directories belong to Debian-exim, the transport
runs as Debian-exim, and deliver_drop_privilege keeps exim from
re-executing itself for root to deliver (which with -C logs "exim user
lost privilege for using -C option" to the panic log): the panic log
stays empty. Root and Debian-exim are both trusted callers (-oMa).

=head2 swaks(server => $obj | ip => ..., port => ..., opts => [...], data => $bytes, timeout => $s)

Runs C<swaks --server IP --port PORT @opts>, stdout and stderr merged
in order; returns (exit code, transcript). data, if given, is written
to a file and passed as "--data @file" (no shell, no argv limits).
Note swaks' own fixups of DATA: "\n" (backslash n) and %NEWLINE% become
CRLF, %DATE% etc. are replaced, a bare LF becomes CRLF, leading dots
are doubled, and it appends "\r\n." itself: data that ends with CRLF
arrives with one more empty line. timeout (default 30 s) bounds the
whole run: swaks is killed and the test fails if it overruns.

=head2 smtp_connect($ip, $port, timeout => $s, local_ip => $ip)

A scripted client for byte-exact conversations, IPv4 or IPv6. Dies if
it cannot connect within timeout (default 5 s). local_ip picks the
source address (a loopback_ip(), so the server sees a known client).
Every $timeout below defaults to the connect timeout. Methods:

  ->send($bytes, $timeout)   writes exactly $bytes; 1 if all written,
                             0 if the peer closed or it timed out
  ->sendline($line)          send("$line\r\n")
  ->read_line($timeout)      one line with its "\n" (and "\r"), or
                             undef on timeout or EOF (a partial line
                             stays buffered for read_all)
  ->read_reply($timeout)     one whole SMTP reply, multi-line included:
                             (code, raw text); code undef if it timed
                             out, the peer closed, or the final line
                             does not start with three digits
  ->expect($re, $timeout, $name)  reads one reply and passes the test
                             $name if it matches $re; returns the text
  ->cmd($line, $timeout)     one step of a scripted session: sends
                             "$line\r\n" and returns the whole reply's
                             text (multi-line included); a reply that
                             did not come whole within $timeout (default
                             15 s) ends in "(no reply)\n", so that it
                             matches no reply pattern and shows in
                             the test's diagnostics
  ->read_all($timeout)       everything until EOF or timeout (buffered
                             data included): (bytes, 1 if EOF seen)
  ->is_closed($timeout)      1 if the peer closes within $timeout
                             (data arriving meanwhile stays buffered)
  ->starttls(%ssl_options)   the TLS handshake now (IO::Socket::SSL,
                             no certificate check): 1 or 0
  ->close
  ->sock                     the IO::Socket::IP (IO::Socket::SSL after
                             starttls)

=cut

use strict;
use warnings;
use Exporter 'import';
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::IP;
use IO::Select;
use POSIX qw(:sys_wait_h :signal_h setsid);
use Fcntl qw(:flock);
use Socket qw(inet_ntop AF_INET AF_INET6 SOCK_DGRAM);
use Time::HiRes qw(time sleep);
use Config;
use Test::More ();

our @EXPORT = qw(top tmpdir loopback_ip free_port wait_until make_cdb start_tcpserver
  start_tinydns start_mariadb exim_child make_cert swaks smtp_connect silent_resolver greylist_tables);

my $TOP = abs_path(dirname(abs_path(__FILE__)) . '/../..');

# ---------------------------------------------------------------------------
# Processes: each one leads its own process group; %RUNNING holds the
# leaders still to be stopped. Only the process that loaded MXTest cleans
# up: a forked child (e.g. before its exec) must not kill the servers.

my $OWNER = $$;
my %RUNNING;    # pid (= pgid) => program name

sub _cleanup {
  return unless $$ == $OWNER;
  _stop_group($_, 5) for keys %RUNNING;
}

END {
  local $?;    # waitpid in the cleanup must not change the test's exit code
  _cleanup();
}

my %SIGNO = (INT => SIGINT, TERM => SIGTERM, HUP => SIGHUP);
for my $sig (keys %SIGNO) {
  my $num = $SIGNO{$sig};
  $SIG{$sig} = sub {
    if ($$ != $OWNER) { $SIG{$sig} = 'DEFAULT'; kill $sig, $$; POSIX::_exit(128 + $num) }
    _cleanup();
    exit 128 + $num;    # exit, not die: die could be caught by an eval
  };
}
$SIG{PIPE} = sub { };

# In the child: ask the kernel for SIGKILL when the test process dies,
# so that a test killed with SIGKILL leaves no server behind. prctl has
# no core Perl interface; 157 is SYS_prctl and 1 PR_SET_PDEATHSIG on
# x86_64 only. Best effort: the kernel clears it when the program changes
# its uid (tcpserver -u).
sub _die_with_parent {
  my ($parent) = @_;
  return unless $Config{archname} =~ /^x86_64-linux/;
  syscall(157, 1, 9);
  POSIX::_exit(1) if getppid() != $parent;    # the parent died before prctl
}

# _spawn(argv => [...], env => {...}, stdin => $path, stdout => $path,
#        stderr => $path, dir => $cwd): starts argv in a new session, with
# its output appended to the files (stderr may be the same as stdout);
# returns the pid.
sub _spawn {
  my (%a) = @_;
  my @argv = @{ $a{argv} };
  my $parent = $$;
  my $pid = fork // die "fork: $!";
  if ($pid == 0) {
    eval {
      setsid() or die "setsid: $!\n";
      _die_with_parent($parent);
      open STDIN, '<', $a{stdin} // '/dev/null' or die "$a{stdin}: $!\n";
      open STDOUT, '>>', $a{stdout} // '/dev/null' or die "$a{stdout}: $!\n";
      if (defined $a{stderr} && defined $a{stdout} && $a{stderr} eq $a{stdout}) {
        open STDERR, '>&', \*STDOUT or die "dup: $!\n";
      } else {
        open STDERR, '>>', $a{stderr} // '/dev/null' or die "$a{stderr}: $!\n";
      }
      chdir $a{dir} or die "chdir $a{dir}: $!\n" if defined $a{dir};
      while (my ($k, $v) = each %{ $a{env} || {} }) {
        if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
      }
      exec { $argv[0] } @argv or die "exec $argv[0]: $!\n";
    };
    print STDERR "MXTest: $@";
    POSIX::_exit(127);
  }
  $RUNNING{$pid} = $argv[0];
  return $pid;
}

# pids of the live (not zombie) processes in process group $pgid
sub _group_members {
  my ($pgid) = @_;
  my @pids;
  opendir my $dh, '/proc' or die "/proc: $!";
  for my $p (grep { /^\d+$/ } readdir $dh) {
    open my $fh, '<', "/proc/$p/stat" or next;    # gone meanwhile
    my $stat = <$fh> // next;
    # "pid (comm) state ppid pgrp ...": comm may hold spaces and parens
    my ($state, undef, $pgrp) = split ' ', substr($stat, rindex($stat, ')') + 2);
    push @pids, $p if $pgrp == $pgid && $state ne 'Z';
  }
  return @pids;
}

sub _group_gone_within {
  my ($pgid, $timeout) = @_;
  # the leader is our child: reaped (waitpid no longer 0), it leaves no
  # zombie; the others are orphans that init reaps
  return _poll($timeout, sub { waitpid($pgid, WNOHANG) != 0 && !_group_members($pgid) });
}

# SIGTERM to the group, SIGKILL after $grace seconds; reaps the leader.
sub _stop_group {
  my ($pgid, $grace) = @_;
  kill 'TERM', -$pgid;
  unless (_group_gone_within($pgid, $grace)) {
    kill 'KILL', -$pgid;
    _group_gone_within($pgid, 5)
      or warn "MXTest: process group $pgid ($RUNNING{$pgid}) survived SIGKILL\n";
  }
  delete $RUNNING{$pgid};
}

# true if $pid (our child) has not exited; reaps it if it has
sub _alive {
  my ($pid) = @_;
  return 0 unless $RUNNING{$pid};
  return 1 if waitpid($pid, WNOHANG) == 0;
  return 0;
}

# _run(argv => [...], env => {...}, stdin => $bytes, dir => $cwd,
#      timeout => $s, merge => 1): runs a command to completion.
# Returns ($rc, $stdout, $stderr); with merge, stderr is in $stdout.
# $rc is the exit code or 128+signal. Overrunning the timeout kills the
# command and fails the test.
sub _run {
  my (%a) = @_;
  my $dir = File::Temp->newdir('mxrun-XXXXXXXX', TMPDIR => 1);    # removed on return
  _write("$dir/in", $a{stdin} // '');
  my $pid = _spawn(argv => $a{argv}, env => $a{env}, dir => $a{dir},
    stdin => "$dir/in", stdout => "$dir/out", stderr => $a{merge} ? "$dir/out" : "$dir/err");
  my $timeout = $a{timeout} // 60;
  my $status;
  my $exited = _poll($timeout, sub {
    return 0 unless waitpid($pid, WNOHANG) == $pid;
    $status = $?;
    return 1;
  });
  unless ($exited) {
    _stop_group($pid, 0);
    $status = 9;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::fail("$a{argv}[0] finished within ${timeout}s");
  }
  delete $RUNNING{$pid};
  my $rc = $status & 127 ? 128 + ($status & 127) : $status >> 8;
  return ($rc, _slurp("$dir/out"), $a{merge} ? '' : _slurp("$dir/err"));
}

# ---------------------------------------------------------------------------
# Small helpers

sub top { $TOP }

sub tmpdir { tempdir('mxtest-XXXXXXXX', TMPDIR => 1, CLEANUP => 1) }

sub _slurp {
  my ($path) = @_;
  open my $fh, '<:raw', $path or return '';
  local $/;
  return scalar(<$fh>) // '';
}

sub _write {
  my ($path, $bytes) = @_;
  open my $fh, '>:raw', $path or die "$path: $!";
  print {$fh} $bytes;
  close $fh or die "$path: $!";
}

sub _poll {
  my ($timeout, $cond) = @_;
  my $deadline = time + $timeout;
  my $nap = 0.005;
  while (1) {
    return 1 if $cond->();
    return 0 if time >= $deadline;
    sleep $nap;
    $nap *= 2 if $nap < 0.05;
  }
}

sub wait_until {
  my ($timeout, $cond, $what) = @_;
  return 1 if _poll($timeout, $cond);
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  Test::More::fail("timed out after ${timeout}s waiting for: $what");
  return 0;
}

# the local addresses of every TCP and UDP socket, as printable IPs
# (v4-mapped IPv6 addresses as dotted quads)
sub _bound_addresses {
  my %ip;
  local $_;   # callers may be inside map or for, with $_ aliased
  for my $f (qw(tcp udp tcp6 udp6)) {
    open my $fh, '<', "/proc/net/$f" or next;
    <$fh>;
    while (<$fh>) {
      my ($hex) = (split ' ')[1] =~ /^([0-9A-F]+):/ or next;
      # the kernel prints each 32-bit word of the address in host order
      my $bin = pack 'L*', map { hex } $hex =~ /(.{8})/g;
      $bin = substr($bin, 12) if length $bin == 16 && substr($bin, 0, 12) eq "\0" x 10 . "\xff\xff";
      $ip{ inet_ntop(length $bin == 4 ? AF_INET : AF_INET6, $bin) } = 1;
    }
  }
  return %ip;
}

my %handed_out;

sub loopback_ip {
  my %busy = _bound_addresses();
  for (1 .. 1000) {
    my $ip = join '.', 127, map { 1 + int rand 254 } 1 .. 3;
    next if $handed_out{$ip} || $busy{$ip};
    $handed_out{$ip} = 1;
    return $ip;
  }
  die "no free loopback address found";
}

# a DNS server that never answers: a UDP socket on port 53 of a new
# loopback address; returns (its address, the socket, to read what came)
sub silent_resolver {
  my $ip = loopback_ip();
  my $s = IO::Socket::IP->new(Proto => 'udp', Type => SOCK_DGRAM, LocalHost => $ip, LocalPort => 53)
    or die "cannot bind UDP $ip:53: $@";
  return ($ip, $s);
}

my $PORT_DIR = '/tmp/mxtest-ports';
my %port_lock;    # port => the open lock file that reserves it

# the 8192 ports below the kernel's ephemeral range (never above 1024)
sub _port_range {
  my ($low) = split ' ', _slurp('/proc/sys/net/ipv4/ip_local_port_range');
  $low = 32768 unless $low && $low =~ /^\d+$/;
  my $from = $low - 8192 > 1024 ? $low - 8192 : 1025;
  return ($from, $low - 1);
}

sub free_port {
  my ($ip) = @_;
  unless (-d $PORT_DIR) {
    mkdir $PORT_DIR;    # a parallel test may have made it meanwhile
    chmod 01777, $PORT_DIR;
  }
  -d $PORT_DIR or die "$PORT_DIR: $!";
  my ($from, $to) = _port_range();
  my $n = $to - $from + 1;
  my $start = int rand $n;
  for my $i (0 .. $n - 1) {
    my $port = $from + ($start + $i) % $n;
    next if $port_lock{$port};
    open my $fh, '>>', "$PORT_DIR/$port" or next;
    next unless flock $fh, LOCK_EX | LOCK_NB;
    # reserved; now it must also be free (nothing bound, nothing lingering)
    my $s = IO::Socket::IP->new(LocalHost => $ip, LocalPort => $port, Listen => 1, ReuseAddr => 0) or next;
    close $s;
    $port_lock{$port} = $fh;
    return $port;
  }
  die "no free port in $from..$to on $ip";
}

# ---------------------------------------------------------------------------
# CDB files

my %CDB_TOOL = (recipients => ["$TOP/rcptchecks/rcptchecks-make"], senders => ["$TOP/rcptchecks/rcptchecks-make", '-s'],
  rules => ['/usr/bin/tcprules']);

sub make_cdb {
  my ($kind, $text, $path) = @_;
  my $tool = $CDB_TOOL{$kind} or die "make_cdb: unknown kind $kind";
  $path //= tmpdir() . "/$kind.cdb";
  my ($rc, $out, $err) = _run(argv => [@$tool, $path, "$path.tmp"], stdin => $text, timeout => 30);
  die "make_cdb: $tool->[0] failed ($rc): $out$err" if $rc;
  return $path;
}

# the greylisting tables as shipped (examples/sql/greylist.sql), less
# its comments and GRANTs (the tests' SQL user is root)
sub greylist_tables {
  my $t = _slurp("$TOP/examples/sql/greylist.sql");
  $t =~ s/^(?:--|GRANT).*\n//mg;
  return $t;
}

# ---------------------------------------------------------------------------
# tcpserver

sub start_tcpserver {
  my (%a) = @_;
  my $ip = $a{ip} // loopback_ip();
  my $dir = tmpdir();
  my $log = $a{log} // "$dir/tcpserver.log";
  my @argv = ('/usr/bin/tcpserver', '-v', '-1', @{ $a{opts} || [] }, $ip, $a{port} // 0, @{ $a{argv} });
  my $pid = _spawn(argv => \@argv, env => $a{env}, stdout => "$dir/port", stderr => $log);
  # -1 prints the port once tcpserver listens, before it accepts anything
  my $port;
  _poll(10, sub { ($port) = _slurp("$dir/port") =~ /^(\d+)\n/; $port || !_alive($pid) });
  unless ($port) {
    _stop_group($pid, 0) if $RUNNING{$pid};
    die "tcpserver on $ip did not start listening within 10s: " . _slurp($log);
  }
  return bless { ip => $ip, port => $port, pid => $pid, log => $log }, 'MXTest::TCPServer';
}

package MXTest::TCPServer {
  sub ip       { $_[0]{ip} }
  sub port     { $_[0]{port} }
  sub pid      { $_[0]{pid} }
  sub log      { $_[0]{log} }
  sub log_text { MXTest::_slurp($_[0]{log}) }
  sub stop     { MXTest::_stop_group($_[0]{pid}, 5) if $RUNNING{ $_[0]{pid} } }
}

# ---------------------------------------------------------------------------
# tinydns

sub start_tinydns {
  my (%a) = @_;
  my $dir = tmpdir();
  my $self = bless { ip => loopback_ip(), dir => $dir, root => "$dir/root", log => "$dir/log" },
    'MXTest::TinyDNS';
  mkdir $self->{root} or die "$self->{root}: $!";
  $self->reload(data => $a{data});
  $self->{pid} = _spawn(argv => ['/usr/sbin/tinydns'], stdout => $self->{log}, stderr => $self->{log},
    env => { IP => $self->{ip}, ROOT => $self->{root}, UID => 0, GID => 0 });
  # tinydns says "starting tinydns" after it has bound UDP port 53 and
  # chrooted, right before it reads queries. (A probe query would need a
  # name inside the test's zones: tinydns drops the others unanswered.)
  _poll(10, sub { $self->log_text =~ /^starting tinydns$/m || !_alive($self->{pid}) });
  unless ($self->log_text =~ /^starting tinydns$/m && _alive($self->{pid})) {
    $self->stop;
    die "tinydns on $self->{ip} did not start within 10s: " . $self->log_text;
  }
  return $self;
}

package MXTest::TinyDNS {
  sub ip       { $_[0]{ip} }
  sub pid      { $_[0]{pid} }
  sub log_text { MXTest::_slurp($_[0]{log}) }
  sub stop     { MXTest::_stop_group($_[0]{pid}, 5) if $RUNNING{ $_[0]{pid} } }

  # tinydns-data writes data.tmp and renames it to data.cdb: tinydns,
  # which opens data.cdb for every query, sees either the old or the new
  sub reload {
    my ($self, %a) = @_;
    my $root = $self->{root};
    MXTest::_write("$root/data.new", $a{data});
    rename "$root/data.new", "$root/data" or die "rename: $!";
    my ($rc, $out, $err) = MXTest::_run(argv => ['/usr/sbin/tinydns-data'], dir => $root, timeout => 30);
    die "tinydns-data failed ($rc): $out$err" if $rc;
  }
}

# ---------------------------------------------------------------------------
# MariaDB

# small and quick to start: the tests hold a few rows. Durability stays
# the default (a commit is synced), so a crash test means what it says.
my @MARIADB_SMALL = qw(--innodb-buffer-pool-size=16M --innodb-log-file-size=4M
  --skip-log-bin --skip-name-resolve);

sub start_mariadb {
  # directly under /tmp: a Unix socket path must fit in 108 bytes
  my $dir = tempdir('mxdb-XXXXXXXX', DIR => '/tmp', CLEANUP => 1);
  # searchable, so that a program run as another uid reaches the socket
  # and the option file (the data directory itself stays 0700)
  chmod 0711, $dir or die "chmod $dir: $!";
  my $self = bless {
    dir => $dir, datadir => "$dir/data", socket => "$dir/mysql.sock",
    errlog => "$dir/error.log", cnf => "$dir/my.cnf", group => 'mxtest',
    password => join('', map { sprintf '%02x', int rand 256 } 1 .. 12),
  }, 'MXTest::MariaDB';

  # a tmpdir of its own: a starting mariadbd deletes every #sql* file in
  # its tmpdir, including the temporary tables of a parallel test's server
  mkdir "$dir/tmp" or die "$dir/tmp: $!";
  my ($rc, $out, $err) = _run(timeout => 60, argv => ['/usr/bin/mariadb-install-db', '--no-defaults',
    "--datadir=$self->{datadir}", "--tmpdir=$dir/tmp", '--user=root',
    '--auth-root-authentication-method=normal', '--skip-test-db', @MARIADB_SMALL]);
  die "mariadb-install-db failed ($rc): $out$err" if $rc;

  $self->start;
  $self->sql("CREATE DATABASE mxtest;
    CREATE USER 'mxtest'\@'localhost' IDENTIFIED BY '$self->{password}';
    GRANT ALL ON mxtest.* TO 'mxtest'\@'localhost';", 'mysql');
  _write($self->{cnf}, "[mxtest]\nsocket=$self->{socket}\nuser=mxtest\n"
    . "password=$self->{password}\ndatabase=mxtest\n");
  chmod 0644, $self->{cnf};
  return $self;
}

package MXTest::MariaDB {
  sub socket   { $_[0]{socket} }
  sub cnf      { $_[0]{cnf} }
  sub group    { $_[0]{group} }
  sub password { $_[0]{password} }
  sub pid      { $_[0]{pid} }
  sub log_text { MXTest::_slurp($_[0]{errlog}) }

  sub _running { $_[0]{pid} && $RUNNING{ $_[0]{pid} } }

  sub start {
    my ($self) = @_;
    die "mariadbd is already running" if $self->_running;
    my $from = -s $self->{errlog} // 0;    # what this start adds to the log
    $self->{pid} = MXTest::_spawn(argv => ['/usr/sbin/mariadbd', '--no-defaults',
      "--datadir=$self->{datadir}", "--tmpdir=$self->{dir}/tmp", "--socket=$self->{socket}",
      '--skip-networking', '--user=root',
      "--pid-file=$self->{dir}/mariadbd.pid", "--log-error=$self->{errlog}", @MARIADB_SMALL]);
    my $up = MXTest::_poll(30, sub {
      return 1 unless MXTest::_alive($self->{pid});
      my ($rc) = MXTest::_run(timeout => 10, argv => ['/usr/bin/mariadb-admin', '--no-defaults',
        "--socket=$self->{socket}", '--user=root', '--connect-timeout=2', 'ping']);
      return $rc == 0;
    }) && MXTest::_alive($self->{pid});
    unless ($up) {
      $self->kill;
      die "mariadbd did not accept connections within 30s: " . substr($self->log_text, $from);
    }
  }

  # clean shutdown: mariadbd shuts down on SIGTERM; only a server that
  # has not finished within 30 s gets SIGKILL
  sub stop { MXTest::_stop_group($_[0]{pid}, 30) if $_[0]->_running }

  sub kill {
    my ($self) = @_;
    return unless $self->_running;
    CORE::kill 'KILL', -$self->{pid};
    MXTest::_stop_group($self->{pid}, 5);    # reaps it
  }

  # statements run as root; the default database is mxtest
  sub sql {
    my ($self, $statements, $database) = @_;
    my ($rc, $out, $err) = MXTest::_run(timeout => 60, stdin => $statements,
      argv => ['/usr/bin/mariadb', '--no-defaults', "--socket=$self->{socket}", '--user=root',
        '--database=' . ($database // 'mxtest'), '--batch', '--skip-column-names']);
    die "SQL failed ($rc): $err\nin: $statements\n" if $rc;
    return $out;
  }
}

# ---------------------------------------------------------------------------
# exim4 -bs

my ($EXIM_USER, $EXIM_PASSWORD) = ('mxtest', 'mxtest-secret');

sub make_cert {
  my ($dir, $cn) = @_;
  my ($cert, $key) = ("$dir/$cn.pem", "$dir/$cn.key");
  my $pid = fork // die "fork: $!";
  if (!$pid) {
    open STDOUT, '>', '/dev/null'; open STDERR, '>', '/dev/null';
    exec '/usr/bin/openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', $key, '-out', $cert,
      '-days', '2', '-subj', "/CN=$cn" or POSIX::_exit(127);
  }
  waitpid($pid, 0);
  die "openssl req for $cn failed" if $? || !-s $cert || !-s $key;
  return ($cert, $key);
}

sub exim_child {
  # exim_child(), exim_child($dir), exim_child(%options) or
  # exim_child($dir, %options)
  my ($dir, %o) = @_ % 2 ? @_ : (undef, @_);
  for (keys %o) { die "exim_child: unknown option $_" unless /^(?:auth|tls|local_domains|literals)$/ }
  $dir //= tmpdir();
  my ($uid, $gid) = (getpwnam 'Debian-exim')[2, 3];
  defined $uid or die "no user Debian-exim (is exim4 installed?)";
  chmod 0711, $dir or die "chmod $dir: $!";
  for my $sub (qw(spool log mail)) {
    mkdir "$dir/$sub" or die "$dir/$sub: $!";
    chown $uid, $gid, "$dir/$sub" or die "chown $dir/$sub: $!";
  }
  # the same configuration package/run-chain uses: see its comments
  my $config = _slurp("$TOP/package/exim4-chain.conf");
  $config =~ s/\@DIR\@/$dir/g;
  if ($o{tls}) {
    $config =~ s/^tls_advertise_hosts =.*$/tls_advertise_hosts = */m
      or die "exim_child: no tls_advertise_hosts line in package/exim4-chain.conf";
  }
  if (defined $o{local_domains}) {
    $config =~ s/^domainlist local_domains =.*$/domainlist local_domains = $o{local_domains}/m
      or die "exim_child: no local_domains line in package/exim4-chain.conf";
  }
  $config = "allow_domain_literals = true\n$config" if $o{literals};
  # section order is free in exim's configuration: appended at the end
  $config .= <<"AUTH" if $o{auth};

# added by MXTest::exim_child(auth => 1)
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{$EXIM_USER}}{eq{\$auth3}{$EXIM_PASSWORD}}}}
  server_set_id = \$auth2
AUTH
  _write("$dir/exim.conf", $config);
  return bless { dir => $dir, config => "$dir/exim.conf" }, 'MXTest::Exim';
}

package MXTest::Exim {
  sub dir  { $_[0]{dir} }
  sub argv { ['/usr/sbin/exim4', '-C', $_[0]{config}, '-bs', '-odi'] }
  sub chain_argv {
    ['/usr/bin/setuidgid', 'Debian-exim', "$TOP/examples/service/smtpd/exim4-smtpd", '-C', $_[0]{config}, '-odi']
  }
  sub auth_user     { $EXIM_USER }
  sub auth_password { $EXIM_PASSWORD }

  # Maildir names start with seconds.Mmicroseconds: delivery order
  sub messages {
    my ($self) = @_;
    my @files = map { [$_, m{/(\d+)\.M(\d+)[^/]*$} ? ($1, $2) : (0, 0)] } glob "$self->{dir}/mail/new/*";
    return map { $_->[0] } sort { $a->[1] <=> $b->[1] || $a->[2] <=> $b->[2] } @files;
  }

  sub message_bodies {
    my ($self) = @_;
    return map { (split /\r\n\r\n/, MXTest::_slurp($_), 2)[1] // '' } $self->messages;
  }

  sub log_text {
    my ($self) = @_;
    return join '', map { MXTest::_slurp("$self->{dir}/log/$_") } qw(mainlog rejectlog paniclog);
  }

  sub panic_text { MXTest::_slurp("$_[0]{dir}/log/paniclog") // '' }

  # the Received: header exim put at the top of message file $file,
  # continuation lines joined with their white space
  sub received {
    my ($self, $file) = @_;
    my ($head) = (MXTest::_slurp($file) // '') =~ /\A(Received:.*?\r?\n)(?!\s)/s or return undef;
    return $head;
  }

  sub wait_messages {
    my ($self, $n, $timeout) = @_;
    $timeout //= 20;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    MXTest::wait_until($timeout, sub { $self->messages >= $n }, "$n delivered message(s)")
      or Test::More::diag("exim's logs:\n" . $self->log_text);
    return $self->messages;
  }
}

# ---------------------------------------------------------------------------
# swaks

sub swaks {
  my (%a) = @_;
  my ($ip, $port) = $a{server} ? ($a{server}->ip, $a{server}->port) : ($a{ip}, $a{port});
  my @data;
  if (defined $a{data}) {
    my $file = tmpdir() . '/data';
    _write($file, $a{data});
    @data = ('--data', "\@$file");
  }
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  my ($rc, $out) = _run(merge => 1, timeout => $a{timeout} // 30,
    argv => ['/usr/bin/swaks', '--server', $ip, '--port', $port, @data, @{ $a{opts} || [] }]);
  return ($rc, $out);
}

# ---------------------------------------------------------------------------
# scripted SMTP client

sub smtp_connect {
  my ($ip, $port, %a) = @_;
  my $timeout = $a{timeout} // 5;
  my $sock = IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port, Timeout => $timeout,
    (defined $a{local_ip} ? (LocalHost => $a{local_ip}) : ()))
    or die "cannot connect to [$ip]:$port: $@";
  binmode $sock;
  $sock->blocking(0);    # every wait is a select with a deadline
  return bless { sock => $sock, timeout => $timeout, buf => '', eof => 0 }, 'MXTest::Client';
}

package MXTest::Client {
  use Errno qw(EAGAIN EWOULDBLOCK EINTR);
  use Time::HiRes qw(time);

  sub sock { $_[0]{sock} }

  sub _deadline { time + ($_[1] // $_[0]{timeout}) }

  # reads what is there into the buffer, waiting until $deadline at most;
  # 1 if data came, 0 at EOF (a reset counts as EOF), undef on timeout
  sub _fill {
    my ($self, $deadline) = @_;
    return 0 if $self->{eof};
    while (1) {
      my $left = $deadline - time;
      return undef if $left <= 0;
      # bytes IO::Socket::SSL has already decrypted wait for no select
      ($self->{tls} && $self->{sock}->pending) || IO::Select->new($self->{sock})->can_read($left) or next;
      my $n = sysread $self->{sock}, my $chunk, 65536;
      if (!defined $n) {
        next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        $n = 0;
      }
      if ($n == 0) { $self->{eof} = 1; return 0 }
      $self->{buf} .= $chunk;
      return 1;
    }
  }

  sub send {
    my ($self, $bytes, $timeout) = @_;
    my $deadline = $self->_deadline($timeout);
    while (length $bytes) {
      my $n = syswrite $self->{sock}, $bytes;
      if (defined $n) { substr($bytes, 0, $n) = ''; next }
      return 0 unless $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;    # EPIPE, ECONNRESET
      my $left = $deadline - time;
      return 0 if $left <= 0;
      IO::Select->new($self->{sock})->can_write($left);
    }
    return 1;
  }

  sub sendline { $_[0]->send("$_[1]\r\n") }

  # the TLS handshake on this connection (after a 220 to STARTTLS, or at
  # once for implicit TLS): 1, or 0 and the reason in ->tls_error.
  # %o: IO::Socket::SSL options (SSL_version => 'TLSv1_2', ...)
  sub starttls {
    my ($self, %o) = @_;
    require IO::Socket::SSL;
    $self->{sock}->blocking(1);    # the handshake, bounded by Timeout
    my $ok = IO::Socket::SSL->start_SSL($self->{sock}, SSL_verify_mode => 0,
      Timeout => $self->{timeout}, %o);
    $self->{sock}->blocking(0);
    $self->{tls_error} = $ok ? '' : ($IO::Socket::SSL::SSL_ERROR || "$!");
    $self->{tls} = 1 if $ok;
    return $ok ? 1 : 0;
  }
  sub tls_error { $_[0]{tls_error} }

  sub read_line {
    my ($self, $timeout) = @_;
    my $deadline = $self->_deadline($timeout);
    while (1) {
      return $1 if $self->{buf} =~ s/\A([^\n]*\n)//;
      $self->_fill($deadline) or return undef;
    }
  }

  sub read_reply {
    my ($self, $timeout) = @_;
    my $deadline = $self->_deadline($timeout);
    my $text = '';
    while (1) {
      my $line = $self->read_line($deadline - time);
      return (undef, $text) unless defined $line;
      $text .= $line;
      next if $line =~ /^\d{3}-/;
      return ($line =~ /^(\d{3})/ ? $1 : undef, $text);
    }
  }

  sub expect {
    my ($self, $re, $timeout, $name) = @_;
    my (undef, $text) = $self->read_reply($timeout);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::like($text, $re, $name // "reply matches $re");
    return $text;
  }

  sub cmd {
    my ($self, $line, $timeout) = @_;
    $self->sendline($line);    # a failed send still reads what came (a 421)
    my ($code, $text) = $self->read_reply($timeout // 15);
    return defined $code ? $text : "$text(no reply)\n";
  }

  sub read_all {
    my ($self, $timeout) = @_;
    my $deadline = $self->_deadline($timeout);
    1 while $self->_fill($deadline);
    my $all = $self->{buf};
    $self->{buf} = '';
    return ($all, $self->{eof});
  }

  sub is_closed {
    my ($self, $timeout) = @_;
    my $deadline = $self->_deadline($timeout);
    1 while $self->_fill($deadline);
    return $self->{eof};
  }

  sub close { CORE::close $_[0]{sock} }
}

1;

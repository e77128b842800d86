package MXPostfix;
# Debian's Postfix as the inner MTA behind smtp-forward, unpacked into
# the test's own directory and run from there: the postfix package
# conflicts with exim4-daemon-light, which the suite installs, so it is
# never installed. "apt-get download postfix" fetches the .deb (the
# machine's apt sources, as for every other package), "dpkg-deb -x"
# unpacks it, and master(8) runs with a configuration directory of the
# test's (-c), its own queue, data and mailbox directories, and a log
# file (maillog_file): nothing outside the test's directory is read or
# written but the shared libraries Postfix needs (package/debs).
#
#   my $pf = start_postfix(listeners => { name => '-o option=value ...', ... },
#                          main => "extra main.cf lines\n");
#   $pf->ip; $pf->port('name'); $pf->maillog; $pf->messages; $pf->stop; $pf->start
#
# Every listener is an smtpd on $pf->ip; the defaults: mynetworks is
# 127.0.0.1/32 only (the guard's address: smtp-forward connects from
# 127.0.0.1), XCLIENT is allowed from 127.0.0.1, example.org is the one
# local (virtual) domain with the mailbox a@example.org, delivered as
# maildir under $pf->dir/mail/a/. Postfix looks up no client names
# (smtpd_peername_lookup = no): XCLIENT's NAME is the only one it gets.
use strict;
use warnings;
use Exporter 'import';
use MXTest;

our @EXPORT = qw(start_postfix postfix_root postfix_main_base);

my $ROOT;    # the unpacked package, once per test process

sub postfix_root {
  return $ROOT if $ROOT;
  my $dir = MXTest::tmpdir();
  chmod 0755, $dir or die "chmod $dir: $!";
  my ($rc, $out) = MXTest::_run(argv => ['/usr/bin/apt-get', 'download', 'postfix'], dir => $dir, merge => 1, timeout => 120);
  my ($deb) = glob "$dir/postfix_*.deb";
  die "apt-get download postfix failed ($rc): $out" unless $deb;
  ($rc, $out) = MXTest::_run(argv => ['/usr/bin/dpkg-deb', '-x', $deb, "$dir/root"], merge => 1, timeout => 60);
  die "dpkg-deb -x $deb failed ($rc): $out" if $rc;
  $ROOT = "$dir/root";
  return $ROOT;
}

# The directories of a Postfix instance in $dir (etc, data, and the queue
# as postfix-script's "create-missing" would make it, owned by nobody,
# who runs Postfix here as mail_owner), once; returns the main.cf lines
# every instance of the suite shares: its own directories, the unpacked
# package's programs under $root, nobody as mail_owner and daemon as
# default_privs (which must differ), its own log file.
sub postfix_main_base {
  my ($dir, $root) = @_;
  my ($uid) = (getpwnam 'nobody')[2];
  {
    mkdir "$dir/$_" or die "$dir/$_: $!" for qw(etc spool data);
    mkdir "$dir/spool/pid" or die;
    for my $q (qw(public private incoming active deferred bounce defer flush hold maildrop saved trace corrupt)) {
      mkdir "$dir/spool/$q" or die "$dir/spool/$q: $!";
      chown $uid, -1, "$dir/spool/$q";
      chmod 0700, "$dir/spool/$q";
    }
    chown $uid, -1, "$dir/data";
  }
  return <<"MAIN";
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
daemon_directory = $root/usr/lib/postfix/sbin
command_directory = $root/usr/sbin
shlib_directory = $root/usr/lib/postfix
meta_directory = $dir/etc
mail_owner = nobody
setgid_group = mail
default_privs = daemon
import_environment = MAIL_CONFIG LD_LIBRARY_PATH TZ LANG=C
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
MAIN
}

sub start_postfix {
  my (%a) = @_;
  my $root = postfix_root();
  my $dir = MXTest::tmpdir();
  chmod 0755, $dir or die "chmod $dir: $!";
  my ($uid, $gid) = (getpwnam 'nobody')[2, 3];
  my $ip = MXTest::loopback_ip();
  my %port = map { $_ => MXTest::free_port($ip) } sort keys %{ $a{listeners} };
  my $self = bless { dir => $dir, root => $root, ip => $ip, port => \%port }, 'MXPostfix::Server';

  my $base = postfix_main_base($dir, $root);
  mkdir "$dir/mail" or die "$dir/mail: $!";
  chown $uid, $gid, "$dir/mail";
  MXTest::_write("$dir/etc/vmailbox", "a\@example.org a/\n");
  # nobody runs Postfix here (mail_owner; a test may not add users) and
  # owns the mailboxes; daemon is default_privs, which must differ
  MXTest::_write("$dir/etc/main.cf", $base . <<"MAIN" . ($a{main} // ''));
myhostname = inner.mxtest.test
mydomain = mxtest.test
mydestination =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
smtpd_authorized_xclient_hosts = 127.0.0.1
virtual_mailbox_domains = example.org
virtual_mailbox_maps = texthash:$dir/etc/vmailbox
virtual_mailbox_base = $dir/mail
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
message_size_limit = 209715200
virtual_mailbox_limit = 0
smtputf8_enable = no
smtpd_peername_lookup = no
smtpd_client_port_logging = yes
biff = no
MAIN
  my $master = '';
  $master .= "$ip:$port{$_} inet n - n - - smtpd $a{listeners}{$_}\n" for sort keys %port;
  $master .= <<'MASTER';
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
virtual unix - n n - - virtual
MASTER
  MXTest::_write("$dir/etc/master.cf", $master);
  $self->start;
  return $self;
}

package MXPostfix::Server {
  use IO::Socket::IP;

  sub ip      { $_[0]{ip} }
  sub port    { $_[0]{port}{ $_[1] } // die "no listener $_[1]" }
  sub dir     { $_[0]{dir} }
  sub maillog { MXTest::_slurp("$_[0]{dir}/maillog") }

  # the delivered messages of a@example.org, oldest first
  sub messages {
    my ($self) = @_;
    return map { MXTest::_slurp($_) } sort { -M $b <=> -M $a || $a cmp $b } glob "$self->{dir}/mail/a/new/*";
  }

  sub start {
    my ($self) = @_;
    unlink glob "$self->{dir}/spool/pid/*";
    my $from = length $self->maillog;    # what this start adds to the log
    $self->{pid} = MXTest::_spawn(argv => ["$self->{root}/usr/lib/postfix/sbin/master", '-c', "$self->{dir}/etc", '-d'],
      env => { LD_LIBRARY_PATH => "$self->{root}/usr/lib/postfix", MAIL_CONFIG => "$self->{dir}/etc" },
      stdout => "$self->{dir}/master.out", stderr => "$self->{dir}/master.out");
    # master binds every listener before it says "daemon started"; a
    # connection is not needed (and one to a PROXY listener would wait)
    my $up = MXTest::_poll(30, sub {
      return 1 unless MXTest::_alive($self->{pid});
      return substr($self->maillog, $from) =~ /daemon started/;
    }) && MXTest::_alive($self->{pid});
    die "Postfix did not start within 30s:\n" . $self->maillog . MXTest::_slurp("$self->{dir}/master.out") unless $up;
  }

  sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    MXTest::_stop_group($pid, 10);
  }
}

1;

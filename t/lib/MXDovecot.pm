package MXDovecot;
# Debian's Dovecot (dovecot-pop3d, dovecot-imapd) for a test: its own
# base_dir, state, log and mail directories in a temporary directory, a
# passwd-file user database, POP3 and IMAP in clear on a loopback
# address, and, given one, a post-login script (script-login) as
# examples/dovecot/dovecot-postlogin.conf hooks it in.
#
#   my $d = start_dovecot(users => { alice => 'secret' }, postlogin => $script);
#   $d->ip; $d->port('pop3'); $d->port('imap'); $d->log_text; $d->stop
use strict;
use warnings;
use Exporter 'import';
use MXTest;

our @EXPORT = qw(start_dovecot);

sub start_dovecot {
  my (%a) = @_;
  my $dir = MXTest::tmpdir();
  chmod 0755, $dir or die;
  my $ip = MXTest::loopback_ip();
  my %port = (pop3 => MXTest::free_port($ip), imap => MXTest::free_port($ip));
  my ($uid, $gid) = (getpwnam 'nobody')[2, 3];
  mkdir "$dir/$_" or die for qw(run state mail);
  chown $uid, $gid, "$dir/mail" or die;
  MXTest::_write("$dir/users", join '', map { "$_:{PLAIN}$a{users}{$_}:${uid}:${gid}::$dir/mail/$_\n" } sort keys %{ $a{users} });
  my $post = $a{postlogin} ? <<"POST" : '';
service pop3 {
  executable = pop3 postlogin
}
service imap {
  executable = imap postlogin
}
service postlogin {
  executable = script-login $a{postlogin}
  user = \$default_internal_user
  # no address-space limit: under make asan the script's programs
  # reserve AddressSanitizer's shadow memory, far past the default 256M
  vsz_limit = 0
  unix_listener postlogin {
  }
}
POST
  # each login service on its port in clear, its TLS port off
  my $listeners = join '', map { "service $_-login {\n  inet_listener $_ {\n    address = $ip\n    port = $port{$_}\n  }\n"
    . "  inet_listener ${_}s {\n    port = 0\n  }\n}\n" } qw(pop3 imap);
  MXTest::_write("$dir/dovecot.conf", <<"CONF" . $post);
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
instance_name = mxtest-$port{pop3}
protocols = pop3 imap
listen = $ip
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
login_trusted_networks =
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dir/users
}
userdb {
  driver = passwd-file
  args = $dir/users
}
${listeners}service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
auth_failure_delay = 0
CONF
  my $self = bless { dir => $dir, ip => $ip, port => \%port }, 'MXDovecot::Server';
  $self->{pid} = MXTest::_spawn(argv => ['/usr/sbin/dovecot', '-F', '-c', "$dir/dovecot.conf"],
    stdout => "$dir/stdout", stderr => "$dir/stdout");
  my $up = MXTest::_poll(20, sub {
    return 1 unless MXTest::_alive($self->{pid});
    IO::Socket::IP->new(PeerHost => $ip, PeerPort => $port{imap}, Timeout => 1);
  }) && MXTest::_alive($self->{pid});
  die "dovecot did not start within 20s:\n" . MXTest::_slurp("$dir/stdout") . $self->log_text unless $up;
  return $self;
}

package MXDovecot::Server {
  use IO::Socket::IP;
  sub ip       { $_[0]{ip} }
  sub port     { $_[0]{port}{ $_[1] } }
  sub dir      { $_[0]{dir} }
  sub log_text { MXTest::_slurp("$_[0]{dir}/dovecot.log") }
  sub stop     { my ($self) = @_; my $pid = delete $self->{pid} or return; MXTest::_stop_group($pid, 10) }
}

1;

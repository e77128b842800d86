package MXSenders;
# Real sending clients for end-to-end tests of what a chain receives:
# Postfix's and exim's SMTP clients, and Python's smtplib, each sending
# to an SMTP server on loopback (a tcpserver running a chain, or exim -bs
# under tcpserver). For SMTPUTF8 (RFC 6531) above all: each client asks
# for SMTPUTF8 when the message needs it, and what the server's answer
# does to the message (sent, bounced, deferred) is in the client's log.
#
#   my $pf = postfix_sender(host => $ip, port => $port,
#                           tls => 'none'|'may'|'encrypt', CAfile => $pem,
#                           dsn => 'drop'|'relay', lifetime => '1h',
#                           main => "extra main.cf lines\n");
#   my ($rc, $out) = $pf->sendmail($from, \@to, $bytes, @sendmail_options);
#   $pf->wait_delivered($n, $timeout); $pf->wait_status($status, $n, $timeout);
#   $pf->status_lines; $pf->maillog; $pf->dir; $pf->stop; $pf->start
#
#   my $ex = exim_sender(host => $ip, port => $port,
#                        tls => 'none'|'try'|'require',
#                        utf8_downconvert => '0'|'-1'|'1',
#                        dsn => 'drop'|'relay', chunking => 1|0);
#   my ($rc, $out) = $ex->sendmail($from, \@to, $bytes, @exim_options);
#   $ex->wait_delivered($n, $timeout); $ex->wait_status($status, $n, $timeout);
#   $ex->delivery_lines; $ex->status_lines; $ex->mainlog; $ex->paniclog;
#   $ex->run_queue; $ex->dir; $ex->stop (nothing runs between calls)
#
#   my ($ok, $error, $transcript) = smtplib_send(host => $ip, port => $port,
#       from => $bytes, to => [$bytes, ...], message => $bytes,
#       smtputf8 => 1, starttls => 0|1, timeout => 20);
#
#   my $mta = exim_receiver(smtputf8 => 0, %exim_child_options);
#   delivered($mta, $message_id); untraced($message); crlf($text)
#
# Addresses and messages are bytes (UTF-8 encoded where they are UTF-8),
# never Perl character strings. A message may have LF or CRLF line ends.
#
# postfix_sender: Debian's Postfix from MXPostfix::postfix_root(), with
# a configuration, queue and log (maillog_file) of its own in a new
# directory, run as nobody (mail_owner) as MXPostfix runs it: a null
# client with no smtpd at all (pickup, cleanup, qmgr, smtp, bounce and
# their helpers), relayhost = [host]:port, smtputf8_enable = yes,
# nothing delivered locally, deferred mail retried every second or two
# (queue_run_delay, minimal/maximal_backoff_time) and bounced after
# lifetime (maximal_queue_lifetime; default 1h). tls is
# smtp_tls_security_level: "none" (default), "may", or "encrypt" (which
# does not verify the server's certificate; CAfile sets
# smtp_tls_CAfile). ->sendmail submits through Postfix's own sendmail,
# run as root with MAIL_CONFIG set: sendmail hands the message to
# postdrop, which, not being set-gid here, writes it into the maildrop
# directory as root (mode 0444, readable by pickup, which runs as nobody
# and owns the directory); Postfix's sendmail asks for SMTPUTF8 by
# itself when an address or a header is UTF-8 (smtputf8_autodetect_classes).
# Its cleanup adds a Received: header, and Date: and Message-ID: when
# the message has none. main: more main.cf lines (a later line wins).
#
# exim_sender: /usr/sbin/exim4 with a -C configuration of its own in a
# new directory (spool and log owned by Debian-exim, as for
# MXTest::exim_child): one manualroute router sends every domain to host
# on port; tls "none" (default: hosts_avoid_tls = *), "try" (STARTTLS
# when offered, exim's own default) or "require" (hosts_require_tls =
# *), never a certificate check. utf8_downconvert is the smtp
# transport's option of that name: "0" (default) never converts a UTF-8
# address to A-labels, so a message that needs SMTPUTF8 bounces at a
# server without it ("utf8 support required but not offered"); "-1"
# converts only for a server without SMTPUTF8; "1" always converts.
# exim asks for SMTPUTF8 when the message needs it (a UTF-8 envelope
# address), and sends the message with BDAT when the server offers
# CHUNKING (exim's default; chunking => 0: DATA always). A failed
# delivery is retried (retry rule F,1h,1s): each ->wait_* forces a
# queue run (-qf) every two seconds meanwhile. ->sendmail runs
# "exim4 -C conf -odi -oi -f from -- to..." as root, who may give -f
# and keeps exim's privilege despite the untrusted -C file. Without
# more, exim would deliver in processes that re-execute exim as
# Debian-exim with the same -C, and each of these logs "exim user lost
# privilege for using -C option" to the panic log; with
# deliver_drop_privilege = true exim delivers as Debian-exim without
# re-executing itself for privilege, and a process run by Debian-exim
# with -C logs normally: the panic log stays empty.
#
# dsn (both MTAs): "drop" (default) throws away the delivery status
# notifications the sender would send (null sender) instead of relaying
# them to the same server, so that the server sees only the test's own
# messages; the failure itself is in the sender's log either way.
# "relay" sends them like any other message.
#
# Status lines, for both MTAs: hashes with queue_id, to (the recipient
# as written in the log, UTF-8 bytes), relay ("host[ip]:port" for
# Postfix, "host [ip]" for exim), dsn (Postfix's dsn=; for exim the
# enhanced status code in the reply, if any), status ("sent",
# "bounced", "deferred"), said (the reply or the reason, e.g. "250 OK
# id=..." or "SMTPUTF8 is required, but was not offered by host ..."),
# and line (the whole log line). Postfix's are its delivery agents'
# "to=<...>, relay=..., dsn=..., status=..." lines, but for the discard
# that drops a notification; exim's its "=>" (sent), "**" (bounced)
# and "==" (deferred) lines, but for the :blackhole: of a notification.
# wait_delivered($n, $timeout) waits for at least $n "sent" lines,
# wait_status($status, $n, $timeout) for $n lines of that status; both
# return the status lines and fail the test (with the log) on timeout
# (default 20 s).
#
# smtplib_send: python3 with smtplib: EHLO, optionally STARTTLS (no
# certificate check), MAIL FROM with SMTPUTF8 when smtputf8 is set,
# RCPT TO each, DATA. Returns (1, '', transcript) when every recipient
# was accepted and the message too, else (0, error, transcript); the
# transcript is smtplib's debug output: each command sent and each
# reply ("reply: b'250 ...'"). Bounded by timeout (default 20 s).
#
# exim_receiver: MXTest::exim_child(%options), with
# smtputf8_advertise_hosts emptied in the generated copy of its
# configuration when smtputf8 => 0 (a receiving MTA without SMTPUTF8).
use strict;
use warnings;
use Exporter 'import';
use MXTest;
use MXPostfix qw(postfix_root postfix_main_base);
use Time::HiRes qw(time);

our @EXPORT = qw(postfix_sender exim_sender smtplib_send exim_receiver delivered untraced crlf);

# What the receiving exim (an MXTest::Exim) delivered: the message whose
# Message-ID is <$id@...>, or undef; that message less the Received:
# fields added on the way (at its head); a text with CRLF line ends, as
# the maildir holds it.
sub delivered {
  my ($mta, $id) = @_;
  for my $path ($mta->messages) {
    my $m = MXTest::_slurp($path);
    return $m if $m =~ /^Message-ID: <\Q$id\E\@/mi;
  }
  return undef;
}

sub untraced {
  my ($m) = @_;
  1 while defined $m && $m =~ s/\AReceived:[^\n]*\n(?:[ \t][^\n]*\n)*//;
  return $m;
}

sub crlf { $_[0] =~ s/(?<!\r)\n/\r\n/gr }

sub _check_opts {
  my ($who, $allowed, %o) = @_;
  for (keys %o) { die "$who: unknown option $_" unless $allowed->{$_} }
}

# the status lines of a log whose lines the parser turns into hashes;
# fails the test on timeout
sub _wait_status {
  my ($self, $status, $n, $timeout, $kick) = @_;
  $timeout //= 20;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  my $next_kick = time + 2;
  my $ok = MXTest::wait_until($timeout, sub {
    return 1 if grep({ $_->{status} eq $status } $self->status_lines) >= $n;
    if ($kick && time >= $next_kick) { $kick->(); $next_kick = time + 2 }
    return 0;
  }, "$n status=$status line(s) in the sender's log");
  Test::More::diag("the sender's log:\n" . $self->log_text) unless $ok;
  return $self->status_lines;
}

# ---------------------------------------------------------------------------
# Postfix

sub postfix_sender {
  my (%a) = @_;
  _check_opts('postfix_sender', { map { $_ => 1 } qw(host port tls CAfile dsn lifetime main) }, %a);
  defined $a{host} && defined $a{port} or die "postfix_sender: host and port are needed";
  my $tls = $a{tls} // 'none';
  $tls =~ /^(?:none|may|encrypt)$/ or die "postfix_sender: tls is none, may or encrypt, not $tls";
  my $dsn = $a{dsn} // 'drop';
  $dsn =~ /^(?:drop|relay)$/ or die "postfix_sender: dsn is drop or relay, not $dsn";
  my $root = postfix_root();
  my $dir = MXTest::tmpdir();
  chmod 0755, $dir or die "chmod $dir: $!";
  my $self = bless { dir => $dir, root => $root }, 'MXSenders::Postfix';

  my $base = postfix_main_base($dir, $root);
  # the null sender's notifications go to discard (see the top comment)
  MXTest::_write("$dir/etc/dsn_transport", "<> discard:notification dropped by the test\n");
  my $cafile = defined $a{CAfile} ? "smtp_tls_CAfile = $a{CAfile}\n" : '';
  my $dsn_map = $dsn eq 'drop' ? "sender_dependent_default_transport_maps = texthash:$dir/etc/dsn_transport\n" : '';
  my $lifetime = $a{lifetime} // '1h';
  # as MXPostfix: nobody runs Postfix (mail_owner), daemon is
  # default_privs; nothing listens, nothing is delivered here
  MXTest::_write("$dir/etc/main.cf", $base . <<"MAIN" . $cafile . $dsn_map . ($a{main} // ''));
# sendmail runs postdrop with these alone: it needs the unpacked libraries
export_environment = TZ MAIL_CONFIG LANG LD_LIBRARY_PATH
myhostname = sender.mxtest.test
mydomain = mxtest.test
myorigin = \$myhostname
mydestination =
local_transport = error:5.1.1 local delivery is disabled
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
relayhost = [$a{host}]:$a{port}
smtputf8_enable = yes
smtp_tls_security_level = $tls
smtp_tls_loglevel = 1
smtp_connect_timeout = 10s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
maximal_queue_lifetime = $lifetime
bounce_queue_lifetime = $lifetime
biff = no
MAIN
  # pickup wakes up every second as well as when postdrop signals it
  MXTest::_write("$dir/etc/master.cf", <<'MASTER');
pickup unix n - n 1 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
showq unix n - n - - showq
smtp unix - - n - - smtp
relay unix - - n - - smtp
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
MASTER
  $self->start;
  return $self;
}

package MXSenders::Postfix {
  sub log_text { $_[0]->maillog }
  sub _env     { { LD_LIBRARY_PATH => "$_[0]{root}/usr/lib/postfix", MAIL_CONFIG => "$_[0]{dir}/etc" } }

  # start and stop: MXPostfix::Server's (master -d, until "daemon started")
  our @ISA = ('MXPostfix::Server');

  # Postfix's sendmail, as root; returns (exit code, its output)
  sub sendmail {
    my ($self, $from, $to, $bytes, @opts) = @_;
    my ($rc, $out) = MXTest::_run(argv => ["$self->{root}/usr/sbin/sendmail", '-i', '-f', $from, @opts, '--', @$to],
      env => $self->_env, stdin => $bytes, merge => 1, timeout => 30);
    return ($rc, $out);
  }

  # "postfix/smtp[1]: 4Xyz: to=<a@b>, orig_to=<...>, relay=..., delay=...,
  # delays=..., dsn=2.0.0, status=sent (250 ...)"
  sub status_lines {
    my ($self) = @_;
    my @lines;
    for my $line (split /\n/, $self->maillog) {
      $line =~ m{ postfix/(\w+)\[\d+\]: (\w+): to=<(.*?)>, (?:orig_to=<.*?>, )?relay=(\S+?), .*?dsn=([\d.]+), status=(\w+) \((.*)\)$}
        or next;
      next if $1 eq 'discard';
      push @lines, { daemon => $1, queue_id => $2, to => $3, relay => $4, dsn => $5, status => $6, said => $7, line => $line };
    }
    return @lines;
  }

  sub wait_status    { my ($self, $status, $n, $timeout) = @_; MXSenders::_wait_status($self, $status, $n, $timeout) }
  sub wait_delivered { my ($self, $n, $timeout) = @_; MXSenders::_wait_status($self, 'sent', $n, $timeout) }
}

# ---------------------------------------------------------------------------
# exim

sub exim_sender {
  my (%a) = @_;
  _check_opts('exim_sender', { map { $_ => 1 } qw(host port tls utf8_downconvert dsn chunking) }, %a);
  defined $a{host} && defined $a{port} or die "exim_sender: host and port are needed";
  my $tls = $a{tls} // 'none';
  my %tls_line = (none => 'hosts_avoid_tls = *', try => '', require => 'hosts_require_tls = *');
  defined $tls_line{$tls} or die "exim_sender: tls is none, try or require, not $tls";
  my $down = $a{utf8_downconvert} // '0';
  $down =~ /^(?:0|-1|1)$/ or die "exim_sender: utf8_downconvert is 0, -1 or 1, not $down";
  my $dsn = $a{dsn} // 'drop';
  $dsn =~ /^(?:drop|relay)$/ or die "exim_sender: dsn is drop or relay, not $dsn";
  my $dir = MXTest::tmpdir();
  my ($uid, $gid) = (getpwnam 'Debian-exim')[2, 3];
  defined $uid or die "no user Debian-exim (is exim4 installed?)";
  chmod 0711, $dir or die "chmod $dir: $!";
  for my $sub (qw(spool log)) {
    mkdir "$dir/$sub" or die "$dir/$sub: $!";
    chown $uid, $gid, "$dir/$sub" or die "chown $dir/$sub: $!";
  }
  my $chunking = ($a{chunking} // 1) ? '' : "  hosts_try_chunking =\n";
  # a bounce has the null sender: "senders = :" matches it alone
  my $drop = $dsn eq 'drop' ? "dsn_drop:\n  driver = redirect\n  senders = :\n  data = :blackhole:\n" : '';
  MXTest::_write("$dir/exim.conf", <<"CONF");
# exim as a sending client (MXSenders::exim_sender): every domain goes to
# $a{host} port $a{port}
primary_hostname = sender.mxtest.test
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
keep_environment =
deliver_drop_privilege = true
rfc1413_hosts =
host_lookup =
tls_advertise_hosts =

begin routers
$drop
out:
  driver = manualroute
  route_list = * $a{host}
  self = send
  transport = remote

begin transports
remote:
  driver = smtp
  port = $a{port}
  allow_localhost
  $tls_line{$tls}
  tls_verify_hosts =
  tls_try_verify_hosts =
  utf8_downconvert = $down
  connect_timeout = 10s
$chunking
begin retry
* * F,1h,1s
CONF
  return bless { dir => $dir, config => "$dir/exim.conf" }, 'MXSenders::Exim';
}

package MXSenders::Exim {
  sub dir      { $_[0]{dir} }
  sub mainlog  { MXTest::_slurp("$_[0]{dir}/log/mainlog") }
  sub paniclog { MXTest::_slurp("$_[0]{dir}/log/paniclog") }
  sub log_text { $_[0]->mainlog . $_[0]->paniclog }
  sub stop     { }    # nothing runs between submissions and queue runs

  sub sendmail {
    my ($self, $from, $to, $bytes, @opts) = @_;
    my ($rc, $out) = MXTest::_run(argv => ['/usr/sbin/exim4', '-C', $self->{config}, '-odi', '-oi', '-f', $from, @opts, '--', @$to],
      stdin => $bytes, merge => 1, timeout => 60);
    return ($rc, $out);
  }

  # one queue run, every message whatever its retry time
  sub run_queue {
    my ($self) = @_;
    MXTest::_run(argv => ['/usr/sbin/exim4', '-C', $self->{config}, '-qf'], merge => 1, timeout => 60);
  }

  # the "=>", "**" and "==" lines
  sub delivery_lines { grep { /^\S+ \S+ \S+ (?:=>|\*\*|==) / } split /\n/, $_[0]->mainlog }

  # "=> to R=out T=remote H=... C=\"250 OK id=...\"",
  # "** to R=out T=remote H=...: SMTP error from remote mail server after RCPT TO:<...>: 553 ..."
  my %STATUS = ('=>' => 'sent', '**' => 'bounced', '==' => 'deferred');
  sub status_lines {
    my ($self) = @_;
    my @lines;
    for my $line ($self->delivery_lines) {
      my ($id, $flag, $rest) = $line =~ /^\S+ \S+ (\S+) (=>|\*\*|==) (.*)$/ or next;
      my ($to) = $rest =~ /^(\S+)/;
      next if $to eq ':blackhole:';    # a dropped notification
      $to =~ s/:$//;
      my ($relay) = $rest =~ / H=(\S+ \[[^\]]+\](?::\d+)?)/;
      my $said = $rest =~ / C="(.*)"/ ? $1 : $rest =~ /: (SMTP error .*|.*)$/ ? $1 : '';
      my ($dsn) = $said =~ /\b([245]\.\d{1,3}\.\d{1,3})\b/;
      push @lines, { queue_id => $id, to => $to, relay => $relay // 'none', dsn => $dsn // '',
        status => $STATUS{$flag}, said => $said, line => $line };
    }
    return @lines;
  }

  sub wait_status {
    my ($self, $status, $n, $timeout) = @_;
    MXSenders::_wait_status($self, $status, $n, $timeout, sub { $self->run_queue });
  }
  sub wait_delivered { my ($self, $n, $timeout) = @_; $self->wait_status('sent', $n, $timeout) }
}

# ---------------------------------------------------------------------------
# Python's smtplib

my $SMTPLIB = <<'PY';
import smtplib, ssl, sys
host, port, timeout, utf8, tls = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4] == '1', sys.argv[5] == '1'
addr = lambda h: bytes.fromhex(h).decode('utf-8', 'surrogateescape')
sender, rcpts = addr(sys.argv[6]), [addr(h) for h in sys.argv[7:]]
msg = sys.stdin.buffer.read()
try:
    s = smtplib.SMTP(host, port, timeout=timeout)
    s.set_debuglevel(1)
    s.ehlo('client.mxtest.test')
    if tls:
        s.starttls(context=ssl._create_unverified_context())
        s.ehlo('client.mxtest.test')
    refused = s.sendmail(sender, rcpts, msg, mail_options=['SMTPUTF8'] if utf8 else [])
    s.quit()
    if refused:
        print('refused: %r' % (refused,))
        sys.exit(1)
except Exception as e:
    print('%s: %s' % (type(e).__name__, e))
    sys.exit(1)
PY

sub smtplib_send {
  my (%a) = @_;
  _check_opts('smtplib_send', { map { $_ => 1 } qw(host port from to message smtputf8 starttls timeout) }, %a);
  my $timeout = $a{timeout} // 20;
  (my $msg = $a{message}) =~ s/(?<!\r)\n/\r\n/g;
  my ($rc, $out, $err) = MXTest::_run(timeout => $timeout + 10, stdin => $msg,
    argv => ['/usr/bin/python3', '-c', $SMTPLIB, $a{host}, $a{port}, $timeout, $a{smtputf8} ? 1 : 0, $a{starttls} ? 1 : 0,
      map { unpack 'H*', $_ } $a{from}, @{ $a{to} }]);
  chomp $out;
  return $rc == 0 ? (1, '', $err) : (0, $out || "python3 exited $rc", $err);
}

# ---------------------------------------------------------------------------
# a receiving exim, with or without SMTPUTF8

sub exim_receiver {
  my (%a) = @_;
  my $utf8 = delete $a{smtputf8} // 1;
  my $mta = MXTest::exim_child(%a);
  unless ($utf8) {
    my $config = $mta->argv->[2];
    MXTest::_write($config, "smtputf8_advertise_hosts =\n" . MXTest::_slurp($config));
  }
  return $mta;
}

1;

#!/usr/bin/perl
# A real Dovecot (POP3 and IMAP, a passwd-file user database) logs users
# in and runs examples/dovecot/relaydb-postlogin as its post-login script
# (script-login): a POP3 login and an IMAP login each let that client
# relay through the SMTP chain (relaydb-check); a failed login records
# nothing; Dovecot's IP, IPv6 and ::ffff: forms included, is the client
# relaydb-rec records; a store that is down, full or unwritable never
# fails or delays the login (bounded, logged).
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time);
use lib 't/lib';
use MXTest;
use MXRun;
use MXService;
use MXDovecot;

plan skip_all => 'dovecot is not installed (dovecot-pop3d, dovecot-imapd)' unless -x '/usr/sbin/dovecot';
my $top = top();
my ($duid, $dgid) = (getpwnam 'dovecot')[2, 3];
my $built = join ':', map { "$top/$_" } qw(relaydb);

# a post-login script from the example, with its settings
sub postlogin {
  my (%set) = @_;
  my $dir = tmpdir();
  chmod 0755, $dir or die;
  install_script('dovecot/relaydb-postlogin', "$dir/relaydb-postlogin", PATH => "$built:/usr/bin:/bin", TIMEOUT => 1000, %set);
  return "$dir/relaydb-postlogin";
}
my $store = tmpdir();
chmod 0755, $store; chown $duid, $dgid, $store or die;
my $dove = start_dovecot(users => { alice => 'secret' }, postlogin => postlogin(STORE => "-d $store"));
my $smtp = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
  argv => ["$top/relaydb/relaydb-check", '-d', $store, '-m', '30', "$top/t/bin/show-relayclient"]);

sub verdict {
  my ($src) = @_;
  my $s = IO::Socket::IP->new(PeerHost => $smtp->ip, PeerPort => $smtp->port, LocalHost => $src, Timeout => 5) or die $@;
  $s->timeout(5);
  my $l = <$s> // '';
  close $s;
  return $l;
}
sub talk {
  my ($d, $proto, $src, @lines) = @_;
  my $c = smtp_connect($d->ip, $d->port($proto), local_ip => $src, timeout => 10);
  my $said = $c->read_line(10) // '';
  for (@lines) { $c->sendline($_); $said .= $c->read_line(10) // '' }
  $c->close;
  return $said;
}
sub pop3 { my ($d, $src, $pass) = @_; talk($d, 'pop3', $src, 'USER alice', "PASS $pass", 'QUIT') }
sub imap { my ($d, $src, $pass) = @_; talk($d, 'imap', $src, "a LOGIN alice $pass", 'b LOGOUT') }

subtest 'a POP3 login lets the client relay' => sub {
  my $c = loopback_ip();
  like(verdict($c), qr/^RELAYCLIENT unset/, 'before: no relaying');
  like(pop3($dove, $c, 'secret'), qr/^\+OK.*\r\n\+OK.*\r\n\+OK Logged in/s, 'POP3 login');
  ok(wait_until(5, sub { verdict($c) =~ /^RELAYCLIENT=\[\] ip=\Q$c\E/ }, 'relaydb-check trusts it'), 'after: relaydb-check sets RELAYCLIENT');
  like($dove->log_text, qr/relaydb-rec: info: pid \d+ ip \Q$c\E store=dir ts=\d+ result=recorded/, 'relaydb-rec logged, in Dovecot\'s log');
};

subtest 'an IMAP login lets the client relay' => sub {
  my $c = loopback_ip();
  like(imap($dove, $c, 'secret'), qr/^a OK .*Logged in/m, 'IMAP login');
  ok(wait_until(5, sub { verdict($c) =~ /^RELAYCLIENT=\[\] ip=\Q$c\E/ }, 'relaydb-check trusts it'), 'after: relaydb-check sets RELAYCLIENT');
};

subtest 'a failed login records nothing' => sub {
  my $c = loopback_ip();
  like(pop3($dove, $c, 'wrong'), qr/-ERR/, 'POP3: wrong password');
  like(imap($dove, $c, 'wrong'), qr/^a NO /m, 'IMAP: wrong password');
  like(verdict($c), qr/^RELAYCLIENT unset/, 'no relaying');
};

subtest "Dovecot's IP: IPv6 and ::ffff: forms" => sub {
  my $script = postlogin(STORE => "-d $store");
  for my $case (['::ffff:192.0.2.7', '192.0.2.7'], ['2001:DB8::7', '2001:db8::7']) {
    my ($given, $want) = @$case;
    my ($rc, $out, $err) = run_cmd(argv => [$script, '/bin/echo', 'session'], env => { IP => $given, TCPREMOTEIP => undef });
    is($out, "session\n", "IP=$given: the session goes on");
    like($err, qr/ip \Q$want\E store=dir ts=\d+ result=recorded/, "... recorded as $want");
  }
};

subtest 'a store down, full or unwritable never fails or delays the login' => sub {
  my $db = start_mariadb();
  $db->kill;
  my $ro = tmpdir();
  chmod 0555, $ro;
  my @cases = (['down (MariaDB killed)', "-g " . $db->group . " -f " . $db->cnf], ['unwritable', "-d $ro"]);
  my $full = tmpdir();
  chmod 0755, $full;
  if (system("mount -t tmpfs -o size=16k,mode=0777 tmpfs '$full' 2>/dev/null") == 0) {
    system("dd if=/dev/zero of='$full/fill' bs=1k count=64 2>/dev/null");
    push @cases, ['full', "-d $full"];
  }
  else { diag 'cannot mount a tmpfs here: the full store is not tried' }
  for my $case (@cases) {
    my ($name, $storeopts) = @$case;
    my $d = start_dovecot(users => { alice => 'secret' }, postlogin => postlogin(STORE => $storeopts));
    my $c = loopback_ip();
    my $t0 = time;
    like(pop3($d, $c, 'secret'), qr/\+OK Logged in/, "$name: POP3 login served");
    like(imap($d, $c, 'secret'), qr/^a OK /m, "$name: IMAP login served");
    cmp_ok(time - $t0, '<', 4, "$name: within the -t bound");
    ok(wait_until(20, sub { $d->log_text =~ /relaydb-rec: warning: pid \d+ ip \Q$c\E store=\w+ result=error/ }, 'logged'), "$name: logged")
      or diag $d->log_text;
    $d->stop;
  }
  system("umount '$full' 2>/dev/null");
};

$dove->stop;
done_testing;

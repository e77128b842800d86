#!/usr/bin/perl
# Faults through the whole SMTP chain (the order of the README:
# tcpserver relaydb-check rblenv rblsmtpd smtp-delay rcptchecks exim4 -bs)
# and the POP chain (tcpserver pop-login relaydb-rec pop3d-stub), each
# showing the fail mode the manual pages document, with no crash, no
# hang (every wait bounded), no lost message and no false 5xx:
#
#   MariaDB killed, then restarted: relaydb-rec logs and the login goes
#     on; relaydb-check fails closed (no RELAYCLIENT, logged);
#     rcptchecks' SQL source answers 451 4.3.0 (never 550, never 250);
#     after the restart the same client relays, the message it was
#     refused with a 451 is delivered, and unknown recipients get 550
#     again.
#   MariaDB hung (SIGSTOP), then resumed: the POP login waits at most
#     relaydb-rec -t (result=pending), relaydb-check fails closed within
#     its -T, rcptchecks answers 451 within its -T, and the same session
#     gets 550 and 250 again once the server answers.
#   exim killed in the middle of DATA, killed while the answer to the
#     final dot is owed, or hung: the client gets 421 from rcptchecks
#     (at once, or after rcptchecks -t), never 250, and nothing is
#     delivered.
#   The relay store directory not writable by the POP server's uid, and
#     the store full (a 64 KiB tmpfs filled up): relaydb-rec logs the
#     error, the login goes on at once; relaydb-check finds no entry;
#     once there is room again, a new login lets the client relay.
#   tinydns paused (no answer) and stopped: rblenv fails open (a listed
#     client passes, logged as timeout), smtp-delay's -l lookup is
#     bounded by -L (class none, logged), and the mail is delivered.
#
# Every case checks the programs' log lines and that no process of the
# chain is left.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(SIGSTOP SIGCONT);
use Fcntl qw(O_RDONLY O_NONBLOCK);
use lib 't/lib';
use MXTest;
use MXRun;
use MXChain;

my $top = top();
my %bin = chain_programs();
for (sort keys %bin) { plan skip_all => "$bin{$_} not built" unless -x $bin{$_} }

my $ZONE = 'bl.mxguard.test';
my $RBL_T = 1;      # rblenv -t
my $LOOKUP_L = 1;   # smtp-delay -L
my $RCPT_T = 3;     # rcptchecks -t: how long a hung server is waited for
my %DELAY = (none => '0.3', dynamic => '0.3', named => '0.2');
my $TEMPFAIL = qr/^451 4\.3\.0 unable to check the recipient now, try again later\r\n\z/;

# ---------------------------------------------------------------------------
# the clients

sub rev { join '.', reverse split /\./, $_[0] }

my %ip;
for my $who (qw(roamer late hungpop named killed owed hung unwritable full listed paused stopped)) {
  $ip{$who} = loopback_ip();
}
my %name = map { $_ => "mta-$_.senders.mxguard.test" } qw(named killed owed hung paused stopped);
my $LISTED_TXT = "$ip{listed} is listed in $ZONE (chain-faults)";
my $dns = start_tinydns(data => join '', map { "$_\n" } '.mxguard.test::', '.in-addr.arpa::',
  (map { "=$name{$_}:$ip{$_}" } sort keys %name),
  '+' . rev($ip{listed}) . ".$ZONE:127.0.0.2", "'" . rev($ip{listed}) . ".$ZONE:$LISTED_TXT");

# MariaDB: relaydb's store and rcptchecks' source
my $db = start_mariadb();
my $db_stopped = 0;    # SIGSTOPped: resumed at the end whatever happens
END { kill 'CONT', $db->pid if $db_stopped && $db->pid }
my @SQL = ('-g', $db->group, '-f', $db->cnf, '-T', '2');
$db->sql(<<'SQL');
CREATE TABLE rcptchecks_domains (domain VARBINARY(255) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE rcptchecks_addresses (address VARBINARY(320) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO rcptchecks_domains VALUES ('example.org'), ('example.net');
INSERT INTO rcptchecks_addresses VALUES ('alice@example.org'), ('postmaster@example.org'), ('@example.net');
SQL

my $cdbdir = tmpdir();
my $cdb = "$cdbdir/recipients.cdb";
make_cdb(recipients => "example.org\nalice\@example.org\npostmaster\@example.org\n\@example.net\n", $cdb);

# the relay store of the directory cases: a tmpfs of 64 KiB, root's,
# mode 0755; unmounted at the end, whatever happens (this END runs
# before MXTest's and File::Temp's, which would stop the servers and
# remove the directory)
my $storedir = tmpdir();
my $mounted = system('mount', '-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', $storedir) == 0;
END {
  if ($mounted) {
    local $?;
    system('umount', $storedir) == 0 or system('umount', '-l', $storedir);
  }
}

# ---------------------------------------------------------------------------
# helpers

# the chain: tcpserver -H, so that only smtp-delay -l looks names up
# (within -L); $store: the relaydb store options; $rcpt: rcptchecks'
# source options
sub smtp_chain {
  my ($store, $rcpt) = @_;
  my $mta = exim_child();
  my $s = start_tcpserver(opts => ['-R', '-H', '-l', 'mx.example.org'],
    env => { DNSCACHEIP => $dns->ip, RELAYCLIENT => undef, RBLSMTPD => undef, RBLLATE => undef },
    argv => [$bin{check}, @$store, '-m', '30',
      $bin{rblenv}, '-t', $RBL_T, '-r', $ZONE,
      '/usr/bin/rblsmtpd',
      $bin{delay}, '-n', $DELAY{none}, '-y', $DELAY{dynamic}, '-k', $DELAY{named}, '-l', '-L', $LOOKUP_L, '-t', '10',
      $bin{rcptchecks}, @$rcpt, '-d', '0', '-u', '0.05', '-t', $RCPT_T,
      @{ $mta->argv }]);
  return ($s, $mta);
}

sub pop_chain {
  my ($store, @opts) = @_;
  return start_tcpserver(opts => ['-R', '-H', '-l0', @opts],
    argv => ["$top/t/bin/pop-login", $bin{rec}, @$store, "$top/t/bin/pop3d-stub"]);
}

# waits (bounded) for the end of $ip's last connection; its exit status
sub end_status {
  my ($s, $ip, $timeout) = @_;
  my $status;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  wait_until($timeout // 20, sub {
    my $pid = conn_pid($s, $ip);
    ($status) = $s->log_text =~ /^tcpserver: end \Q$pid\E status (\d+)$/m if $pid > 0;
    defined $status;
  }, "the end of the session of $ip");
  return $status;
}

sub no_leftovers {
  my ($what, $servers, @markers) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  wait_until(15, sub { !leftovers($servers, @markers) }, "$what: no process is left")
    or diag join "\n", leftovers($servers, @markers);
}

# a POP login from $src: (what the client heard, seconds it took)
sub pop_login {
  my ($pop, $src) = @_;
  my $t0 = time;
  my $c = smtp_connect($pop->ip, $pop->port, local_ip => $src, timeout => 10);
  my @said = ($c->read_line);
  for ('USER alice', 'PASS secret') { $c->sendline($_); push @said, $c->read_line }
  my $took = time - $t0;
  $c->sendline('QUIT');
  push @said, $c->read_line;
  $c->close;
  return (join('', map { $_ // "(nothing)\n" } @said), $took);
}


# a scripted session from $src up to MAIL; the client and the greeting
sub session {
  my ($s, $src) = @_;
  my $c = smtp_connect($s->ip, $s->port, local_ip => $src, timeout => 15);
  my (undef, $greet) = $c->read_reply(15);
  my $ehlo = $c->cmd('EHLO client.test');
  my $mail = $c->cmd('MAIL FROM:<sender@other.test>');
  return ($c, "$greet$ehlo$mail");
}

# ---------------------------------------------------------------------------

my ($sql_smtp, $sql_mta) = smtp_chain(\@SQL, [@SQL]);
my $sql_pop = pop_chain(\@SQL);

subtest 'MariaDB killed and restarted' => sub {
  my ($said, $took) = pop_login($sql_pop, $ip{roamer});
  like($said, qr/^\+OK maildrop of alice ready\r$/m, 'the roamer logs in by POP');
  wait_until(10, sub { $sql_pop->log_text =~ /^relaydb-rec: info: pid \d+ ip \Q$ip{roamer}\E store=sql ts=\d+ result=recorded$/m },
    'relaydb-rec records the roamer');

  $db->kill;
  note 'MariaDB killed';

  # relaydb-rec: logged, the login goes on at once
  ($said, $took) = pop_login($sql_pop, $ip{late});
  like($said, qr/^\+OK maildrop of alice ready\r$/m, 'MariaDB down: a POP login is still served');
  # < 6: room for a loaded machine; the log line below says why (result=error)
  ok($took < 6, sprintf(q{... at once (%.2f s)}, $took));
  wait_until(10, sub { lines_of($sql_pop, 'relaydb-rec', $ip{late}) =~
      /^relaydb-rec: warning: pid \d+ ip \Q$ip{late}\E store=sql result=error reason=unable to connect/m },
    'relaydb-rec logs the failed write');

  # the roamer: relaydb-check fails closed, rcptchecks answers 451
  my $t0 = time;
  my ($c, $open) = session($sql_smtp, $ip{roamer});
  like($open, qr/\A220 mx\.example\.org ESMTP Exim .*^250 /ms, 'MariaDB down: the roamer still gets a session');
  my @r = map { $c->cmd("RCPT TO:<$_>") } 'friend@elsewhere.test', 'alice@example.org', 'nobody@example.org';
  like($r[0], $TEMPFAIL, 'MariaDB down: relaying: 451 4.3.0 (not trusted, and the domain lookup failed)');
  like($r[1], $TEMPFAIL, 'MariaDB down: a known recipient: 451 4.3.0');
  like($r[2], $TEMPFAIL, 'MariaDB down: an unknown recipient: 451 4.3.0, not 550');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  ok(time - $t0 < 10, sprintf('MariaDB down: the session took %.2f s', time - $t0));
  is(end_status($sql_smtp, $ip{roamer}), 0, 'the session ended normally');
  my $pid = conn_pid($sql_smtp, $ip{roamer});
  like(lines_of($sql_smtp, 'relaydb-check', $ip{roamer}),
    qr/^relaydb-check: warning: pid $pid ip \Q$ip{roamer}\E store=sql result=error reason=\S.*$/m,
    'relaydb-check logged the error (fail closed)');
  unlike(lines_of($sql_smtp, 'rblenv', $ip{roamer}) . lines_of($sql_smtp, 'rcptchecks', $ip{roamer}), qr/result=trusted/,
    'no RELAYCLIENT: rblenv and rcptchecks did not see a trusted client');
  like(lines_of($sql_smtp, 'rblenv', $ip{roamer}), qr/ip \Q$ip{roamer}\E zone=\Q$ZONE\E:nx,\d+ms score=0 result=clean /,
    'rblenv looked the roamer up');
  my $rl = lines_of($sql_smtp, 'rcptchecks', $ip{roamer});
  is(() = $rl =~ /^rcptchecks: warning: pid $pid ip \Q$ip{roamer}\E helo=<[^>]*> from=<[^>]*> rcpt=<[^>]+> result=tempfail error=unable to connect/mg, 3,
    'rcptchecks logged three failed lookups');
  like($rl, qr/^rcptchecks: info: pid $pid ip \Q$ip{roamer}\E helo=<[^>]*> from=<[^>]*> rcpts=3 forwarded=0 unknown=0 refused=0 tempfail=3 messages=0 databytes=0 result=quit$/m,
    'rcptchecks: nothing forwarded, three tempfails');

  $db->start;
  note 'MariaDB restarted';

  # the message that got 451 is sent again, and goes out
  my ($rc, $out) = run_swaks($sql_smtp, $ip{roamer}, '--to', 'friend@elsewhere.test', '--header', 'Subject: retried',
    '--body', 'sent again after a 451');
  is($rc, 0, 'after the restart: the roamer relays (its entry survived the crash)') or diag $out;
  is(end_status($sql_smtp, $ip{roamer}), 0, 'the session ended normally');
  $pid = conn_pid($sql_smtp, $ip{roamer});
  like(lines_of($sql_smtp, 'relaydb-check', $ip{roamer}), qr/^relaydb-check: info: pid $pid ip \Q$ip{roamer}\E store=sql age=\d+ window=1800 result=relay$/m,
    'relaydb-check: relay');
  like(lines_of($sql_smtp, 'rcptchecks', $ip{roamer}), qr/^rcptchecks: info: pid $pid ip \Q$ip{roamer}\E result=trusted$/m, 'rcptchecks: trusted');

  # rcptchecks' lookups work again
  ($c, $open) = session($sql_smtp, $ip{named});
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^550 5\.1\.1 <nobody\@example\.org>/, 'after the restart: unknown recipient 550 5.1.1');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'after the restart: a known recipient 250');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  my ($code, $text) = do { $c->send("Subject: after the restart\r\n\r\nhello\r\n.\r\n"); $c->read_reply(20) };
  is($code, 250, 'the message is accepted') or diag $text;
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  is(end_status($sql_smtp, $ip{named}), 0, 'the session ended normally');
  my @bodies = do { $sql_mta->wait_messages(2, 20); $sql_mta->message_bodies };
  is(scalar @bodies, 2, 'two messages delivered');
  like(join('', @bodies), qr/^sent again after a 451\r$/m, 'the retried message arrived');

  # the login that could not be recorded: no relaying until a new one
  like(lines_of($sql_smtp, 'relaydb-check', $ip{late}), qr/^\z/, '(the late user has not connected yet)');
  ($said) = pop_login($sql_pop, $ip{late});
  like($said, qr/^\+OK maildrop/m, 'the user whose login was not recorded logs in again');
  wait_until(10, sub { lines_of($sql_pop, 'relaydb-rec', $ip{late}) =~ /result=recorded$/m }, '... and is recorded');
  ($rc, $out) = run_swaks($sql_smtp, $ip{late}, '--to', 'friend@elsewhere.test', '--body', 'late but relayed');
  is($rc, 0, '... and relays') or diag $out;
  $sql_mta->wait_messages(3, 20);
  no_leftovers('MariaDB', [$sql_smtp, $sql_pop], $sql_mta->argv->[2], $db->cnf);
};

subtest 'MariaDB hung (SIGSTOP), then resumed' => sub {
  my $T = $SQL[-1];
  kill 'STOP', $db->pid;
  $db_stopped = 1;
  note 'MariaDB stopped (SIGSTOP): connects are queued, nothing answers';
  my ($said, $took) = pop_login($sql_pop, $ip{hungpop});
  like($said, qr/^\+OK maildrop of alice ready\r$/m, 'MariaDB hung: the POP login is served');
  # < 6: room for a loaded machine (-t, 1 s by default, and three round
  # trips); that -t fired, rather than the store's -T 2 or nothing, is
  # the result=pending line below
  ok($took < 6, sprintf(q{... after at most relaydb-rec -t (%.2f s)}, $took));
  like(lines_of($sql_pop, 'relaydb-rec', $ip{hungpop}),
    qr/^relaydb-rec: warning: pid \d+ ip \Q$ip{hungpop}\E result=pending reason=store slow, the login goes on$/m,
    'relaydb-rec logged result=pending');

  my $t0 = time;
  my $c = smtp_connect($sql_smtp->ip, $sql_smtp->port, local_ip => $ip{roamer}, timeout => 15);
  my (undef, $greet) = $c->read_reply(15);
  my $greet_after = time - $t0;
  like($greet, qr/^220 mx\.example\.org ESMTP Exim /, 'MariaDB hung: the recorded roamer still gets a greeting');
  ok($greet_after < $T * 2 + 2, sprintf('... within relaydb-check\'s -T (%.2f s, -T %d)', $greet_after, $T));
  like($c->cmd('EHLO client.test'), qr/^250[ -]/, 'EHLO');
  like($c->cmd('MAIL FROM:<alice@example.org>'), qr/^250 /, 'MAIL');
  $t0 = time;
  like($c->cmd('RCPT TO:<friend@elsewhere.test>', $T * 3 + 5), $TEMPFAIL, 'MariaDB hung: relaying: 451 4.3.0');
  my $rcpt_after = time - $t0;
  # + 4: room for a loaded machine, under the client's $T * 3 + 5 that a
  # lookup without -T would run into
  ok($rcpt_after < $T * 2 + 4, sprintf('... within twice rcptchecks\' -T (%.2f s)', $rcpt_after));
  like($c->cmd('RCPT TO:<nobody@example.org>', $T * 3 + 5), $TEMPFAIL, 'MariaDB hung: an unknown recipient: 451 4.3.0, not 550');

  kill 'CONT', $db->pid;
  $db_stopped = 0;
  note 'MariaDB resumed';
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^550 5\.1\.1 /, 'resumed: the same session gets 550 5.1.1 for an unknown recipient');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'resumed: and 250 for a known one');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  is(end_status($sql_smtp, $ip{roamer}), 0, 'the session ended normally');
  my $pid = conn_pid($sql_smtp, $ip{roamer});
  like(lines_of($sql_smtp, 'relaydb-check', $ip{roamer}), qr/^relaydb-check: warning: pid $pid ip \Q$ip{roamer}\E store=sql result=error reason=unable to connect/m,
    'relaydb-check logged the error (fail closed)');
  like(lines_of($sql_smtp, 'rcptchecks', $ip{roamer}),
    qr/^rcptchecks: info: pid $pid ip \Q$ip{roamer}\E helo=<[^>]*> from=<[^>]*> rcpts=4 forwarded=1 unknown=1 refused=1 tempfail=2 messages=0 databytes=0 result=quit$/m,
    'rcptchecks: two tempfails, then one unknown and one forwarded');
  wait_until(10, sub { lines_of($sql_pop, 'relaydb-rec', $ip{hungpop}) =~ /store=sql result=(?:recorded|error)/ },
    'the pending write logs its result');
  note lines_of($sql_pop, 'relaydb-rec', $ip{hungpop});
  no_leftovers('MariaDB hung', [$sql_smtp, $sql_pop], $sql_mta->argv->[2], $db->cnf);
};

# the exim processes of $mta's chain
sub exim_pids {
  my ($mta) = @_;
  my $conf = $mta->argv->[2];
  opendir my $dh, '/proc' or die "/proc: $!";
  return grep { (slurp("/proc/$_/cmdline") // '') =~ m{\A/usr/sbin/exim4\0.*\Q$conf\E\0}
      && (slurp("/proc/$_/stat") // '') !~ /^\d+ \(.*\) Z /s } grep { /^\d+$/ } readdir $dh;
}

# the bytes waiting in the pipe that is process $pid's stdin (undef if
# it is not a pipe); the read end opened through /proc is closed at
# once, so that the pipe's writer still sees its reader go
sub stdin_queued {
  my ($pid) = @_;
  sysopen(my $fh, "/proc/$pid/fd/0", O_RDONLY | O_NONBLOCK) or return undef;
  my $n = pack 'i', 0;
  my $ok = ioctl($fh, 0x541B, $n);    # FIONREAD
  close $fh;
  return $ok ? unpack('i', $n) : undef;
}

# exim is killed or stopped while it receives a message; it is stopped
# (SIGSTOP) first, so that what the client sends piles up in its stdin
# pipe, where the test sees it arrive:
#   killed:  SIGKILL once the first half is there (no answer owed yet)
#   owed:    the rest and the final dot, then SIGKILL once they are
#            there (the answer to the dot is owed)
#   hung:    the rest and the final dot; nothing more (rcptchecks -t
#            ends the wait)
for my $how (qw(killed owed hung)) {
  my %title = (killed => 'exim killed in the middle of DATA', owed => 'exim killed while its answer to the final dot is owed',
    hung => 'exim hung after the final dot');
  subtest $title{$how} => sub {
    my $before = () = $sql_mta->messages;
    my ($c, $open) = session($sql_smtp, $ip{$how});
    like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT 250');
    like($c->cmd('DATA'), qr/^354 /, 'DATA 354');
    my @exim;
    wait_until(5, sub { @exim = exim_pids($sql_mta) }, 'an exim process receives the message');
    is(scalar @exim, 1, 'one exim process receives the message');
    kill 'STOP', @exim;
    # stopped indeed (state T): a read it was in would take the bytes otherwise
    wait_until(5, sub { (slurp("/proc/$exim[0]/stat") // '') =~ /^\d+ \(.*\) T /s }, 'exim is stopped');
    my $half = "Subject: half a message ($how)\r\n\r\nthe first half\r\n";
    my $rest = "the second half\r\n.\r\n";
    ok($c->send($half), 'the first half of the message is sent');
    wait_until(10, sub { (stdin_queued($exim[0]) // -1) >= length $half }, 'the first half has reached exim');
    my $t0 = time;
    if ($how eq 'killed') {
      kill 'KILL', @exim;
      wait_until(5, sub { !exim_pids($sql_mta) }, 'exim is gone');
      $c->send($rest);
    } else {
      $c->send($rest);
      if ($how eq 'owed') {
        wait_until(10, sub { (stdin_queued($exim[0]) // -1) >= length($half) + length($rest) }, 'the final dot has reached exim');
        kill 'KILL', @exim;
      }
    }
    my ($said, $eof) = $c->read_all($RCPT_T + 5);
    my $took = time - $t0;
    $c->close;
    my $text = $how eq 'hung' ? 'mail server not answering' : 'mail server unavailable';
    like($said, qr/\A421 4\.3\.0 \Q$text\E, closing connection\r\n\z/, "the client gets 421 4.3.0 $text from rcptchecks");
    ok($eof, '... and the connection is closed');
    unlike($said, qr/^250/m, 'the message is not acknowledged: the client keeps it');
    ok($took < ($how eq 'hung' ? $RCPT_T + 2 : 3), sprintf('... after %.2f s', $took));
    is(end_status($sql_smtp, $ip{$how}, 30), 0, 'rcptchecks ended the session normally');
    my $pid = conn_pid($sql_smtp, $ip{$how});
    my $result = $how eq 'hung' ? 'child-timeout' : 'child-died';
    like(lines_of($sql_smtp, 'rcptchecks', $ip{$how}),
      qr/^rcptchecks: info: pid $pid ip \Q$ip{$how}\E helo=<[^>]*> from=<[^>]*> rcpts=1 forwarded=1 unknown=0 refused=0 tempfail=0 messages=0 databytes=\d+ result=$result$/m,
      "rcptchecks logged result=$result, no message");
    # every exim of the chain gone first: what it delivered, it delivered before
    no_leftovers("exim $how", [$sql_smtp], $sql_mta->argv->[2]);
    is(scalar(() = $sql_mta->messages), $before, 'nothing was delivered');
    unlike($sql_mta->log_text, qr/half a message/, 'exim did not log the message');
  };
}

SKIP: {
  skip 'cannot mount a tmpfs here (not root?)', 2 unless $mounted;
  my @DIR = ('-d', $storedir);
  my ($dir_smtp, $dir_mta) = smtp_chain(\@DIR, ['-c', $cdb]);

  subtest 'relay store not writable' => sub {
    my ($uid, $gid) = (getpwnam 'nobody')[2, 3];
    my $pop = pop_chain(\@DIR, '-u', $uid, '-g', $gid);
    my ($said, $took) = pop_login($pop, $ip{unwritable});
    like($said, qr/^\+OK maildrop of alice ready\r$/m, 'the login is served');
    # < 6: room for a loaded machine; the log line below says why (result=error)
    ok($took < 6, sprintf(q{... at once (%.2f s)}, $took));
    wait_until(10, sub { lines_of($pop, 'relaydb-rec', $ip{unwritable}) =~
        /^relaydb-rec: warning: pid \d+ ip \Q$ip{unwritable}\E store=dir result=error reason=unable to create a file in \Q$storedir\E.*Permission denied/m },
      'relaydb-rec logs the error');
    my @files = glob "$storedir/* $storedir/.tmp*";
    is("@files", '', 'nothing was written in the store');
    my ($rc, $out) = run_swaks($dir_smtp, $ip{unwritable}, '--to', 'alice@example.org', '--body', 'from an unrecorded user');
    is($rc, 0, 'the user still delivers to a local recipient') or diag $out;
    is(end_status($dir_smtp, $ip{unwritable}), 0, 'the session ended normally');
    like(lines_of($dir_smtp, 'relaydb-check', $ip{unwritable}),
      qr/^relaydb-check: info: pid \d+ ip \Q$ip{unwritable}\E store=dir window=1800 result=unknown$/m, 'relaydb-check: unknown');
    $pop->stop;
    no_leftovers('store not writable', [$dir_smtp, $pop], $dir_mta->argv->[2], $storedir);
  };

  subtest 'relay store full' => sub {
    my $pop = pop_chain(\@DIR);
    system("dd if=/dev/zero of='$storedir/fill' bs=4k count=64 2>/dev/null");
    my $avail = `df -k --output=avail '$storedir' | tail -n 1` =~ s/\s+//gr;
    is($avail, '0', 'the store is full');
    my ($said, $took) = pop_login($pop, $ip{full});
    like($said, qr/^\+OK maildrop of alice ready\r$/m, 'the login is served');
    # < 6: room for a loaded machine; the log line below says why (result=error)
    ok($took < 6, sprintf(q{... at once (%.2f s)}, $took));
    wait_until(10, sub { lines_of($pop, 'relaydb-rec', $ip{full}) =~
        /^relaydb-rec: warning: pid \d+ ip \Q$ip{full}\E store=dir result=error reason=unable to .*No space left on device/m },
      'relaydb-rec logs the error');
    note lines_of($pop, 'relaydb-rec', $ip{full});
    # the POP session over (tcpserver's "end" line): relaydb-rec can leave nothing more
    end_status($pop, $ip{full});
    my @files = grep { !m{/fill$} } glob "$storedir/* $storedir/.tmp*";
    is("@files", '', 'no entry and no temporary file left in the store');
    my ($rc, $out) = run_swaks($dir_smtp, $ip{full}, '--to', 'friend@elsewhere.test', '--body', 'not yet');
    like($out, qr/^<\*\* 550 relay not permitted/m, 'not recorded: the user cannot relay (fail closed, from exim)');
    is(end_status($dir_smtp, $ip{full}), 0, 'the session ended normally');
    like(lines_of($dir_smtp, 'relaydb-check', $ip{full}), qr/ store=dir window=1800 result=unknown$/m, 'relaydb-check: unknown');

    unlink "$storedir/fill";
    ($said) = pop_login($pop, $ip{full});
    like($said, qr/^\+OK maildrop/m, 'room again: a new login');
    wait_until(10, sub { lines_of($pop, 'relaydb-rec', $ip{full}) =~ /^relaydb-rec: info: .* store=dir ts=\d+ result=recorded$/m },
      '... is recorded');
    ($rc, $out) = run_swaks($dir_smtp, $ip{full}, '--to', 'friend@elsewhere.test', '--body', 'relayed after the disk was freed');
    is($rc, 0, '... and the user relays') or diag $out;
    is(end_status($dir_smtp, $ip{full}), 0, 'the session ended normally');
    like(lines_of($dir_smtp, 'relaydb-check', $ip{full}), qr/ store=dir age=\d+ window=1800 result=relay$/m, 'relaydb-check: relay');
    my @msgs = $dir_mta->wait_messages(2, 20);
    is(scalar @msgs, 2, 'the local message and the relayed one are delivered');
    $pop->stop;
    no_leftovers('store full', [$dir_smtp, $pop], $dir_mta->argv->[2], $storedir);
  };
  unlike($dir_smtp->log_text, qr/fatal|Segmentation|AddressSanitizer/, 'the directory chain logged no fatal error')
    or diag $dir_smtp->log_text;
  is(join(' ', grep { $_ != 0 } $dir_smtp->log_text =~ /^tcpserver: end \d+ status (\d+)$/mg), '', 'every session exited 0');
  $dir_smtp->stop;
}

subtest 'tinydns paused, then stopped' => sub {
  # while it answers: the listed client is refused
  my ($rc, $out) = run_swaks($sql_smtp, $ip{listed}, '--to', 'alice@example.org');
  like($out, qr/^<\*\* 451 \Q$LISTED_TXT\E/m, 'tinydns up: the listed client is refused by rblsmtpd');
  my $before = () = $sql_mta->messages;

  for my $fault (qw(paused stopped)) {
    if ($fault eq 'paused') { kill SIGSTOP, $dns->pid } else { kill SIGCONT, $dns->pid; $dns->stop }
    # the listed client passes: rblenv fails open
    my $t0 = time;
    ($rc, $out) = run_swaks($sql_smtp, $ip{listed}, '--to', 'alice@example.org', '--body', "listed, DNS $fault");
    my $took = time - $t0;
    is($rc, 0, "tinydns $fault: the listed client's mail is accepted (fail open)") or diag $out;
    ok($took < $RBL_T + $LOOKUP_L + 4, sprintf("tinydns $fault: bounded (%.2f s; -t %s, -L %s)", $took, $RBL_T, $LOOKUP_L));
    is(end_status($sql_smtp, $ip{listed}), 0, 'the session ended normally');
    my $pid = conn_pid($sql_smtp, $ip{listed});
    my $rbl = lines_of($sql_smtp, 'rblenv', $ip{listed});
    like($rbl, qr/^rblenv: info: pid $pid ip \Q$ip{listed}\E zone=\Q$ZONE\E:timeout score=0 result=clean elapsed=\d+$/m,
      "tinydns $fault: rblenv logged the zone as timeout, result=clean");
    my ($elapsed) = $rbl =~ /^rblenv: info: pid $pid .* elapsed=(\d+)$/m;
    # at most 2.9 s: room for a loaded machine, under rblenv's default
    # -t of 3 s that an ignored -t 1 would wait
    ok(defined $elapsed && $elapsed >= $RBL_T * 1000 - 10 && $elapsed <= 2900,
      "tinydns $fault: rblenv waited its -t (elapsed=" . ($elapsed // '?') . ')');
    my $sd = lines_of($sql_smtp, 'smtp-delay', $ip{listed});
    like($sd, qr/^smtp-delay: warning: pid $pid ip \Q$ip{listed}\E lookup=failed reason=no answer within the lookup deadline or server failure; class none$/m,
      "tinydns $fault: smtp-delay logged the failed lookup");
    my ($waited) = $sd =~ /^smtp-delay: info: pid $pid ip \Q$ip{listed}\E class=none host=- why=noname delay=0\.300 waited=(\d+\.\d{3}) result=pass$/m;
    # at most 2.9 s: room for a loaded machine, under smtp-delay's
    # default -L of 3 s that an ignored -L 1 would wait
    ok(defined $waited && $waited <= 2.9,
      "tinydns $fault: smtp-delay's lookup was bounded by -L (waited=" . ($waited // '?') . ')') or diag $sd;
    unlike($sql_smtp->log_text, qr/^rblsmtpd: \Q$ip{listed}\E pid $pid:/m, "tinydns $fault: rblsmtpd did not refuse");
  }
  my @bodies = do { $sql_mta->wait_messages($before + 2, 20); $sql_mta->message_bodies };
  is(scalar(grep { /^listed, DNS (?:paused|stopped)\r$/m } @bodies), 2, 'both messages were delivered');
  no_leftovers('tinydns', [$sql_smtp], $sql_mta->argv->[2]);
};

unlike($sql_smtp->log_text, qr/fatal|Segmentation|AddressSanitizer/, 'the SQL chain logged no fatal error')
  or diag $sql_smtp->log_text;
is(join(' ', grep { $_ != 0 } $sql_smtp->log_text =~ /^tcpserver: end \d+ status (\d+)$/mg), '', 'every SMTP session exited 0');
unlike($sql_pop->log_text, qr/fatal/, 'the POP chain logged no fatal error');
$_->stop for $sql_smtp, $sql_pop;
no_leftovers('at the end', [], $db->cnf, $sql_mta->argv->[2]);
done_testing;

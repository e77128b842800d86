#!/usr/bin/perl
# rcptchecks with its MariaDB recipient source, under the real tcpserver
# with exim4 -bs behind it and a private MariaDB: known, unknown,
# extension, catch-all and foreign recipients, case folding and -C, a
# second schema through -D/-A with local part and domain apart,
# SQL-injection strings (prepared statements, tables intact), MariaDB
# stopped, killed and restarted in the middle of a session (451, never
# 550 or 250, then recovery on the same session), five failures in a
# row (421), the server closing the connection (idle timeout, KILL),
# bad queries (including statements without a result set and stored
# procedures), a missing or unreadable option file or a wrong password,
# one connection per session (none with RELAYCLIENT), and a query or a
# server slower than -T.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time);
use IO::Socket::IP;
use lib 't/lib';
use MXTest;
use MXRun;

my $rcptchecks = top() . '/rcptchecks/rcptchecks';
my $db = start_mariadb();
my $mta = exim_child();

# The tables of rcptchecks.8: binary columns, compared byte for byte, so
# that the database does not fold case behind rcptchecks' back (or
# neither the folding nor -C could be seen). The second schema is the
# manual's example of a table with the local part and the domain apart.
$db->sql(<<'SQL');
CREATE TABLE rcptchecks_domains (domain VARBINARY(255) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE rcptchecks_addresses (address VARBINARY(320) NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO rcptchecks_domains VALUES ('example.org'), ('example.net');
INSERT INTO rcptchecks_addresses VALUES ('alice@example.org'), ('bob-default@example.org'),
  ('Carol@example.org'), ('o''brien@example.org'), ('a\\b@example.org'), ('@example.net');
CREATE TABLE mailbox (local_part VARBINARY(64) NOT NULL, domain VARBINARY(255) NOT NULL,
  PRIMARY KEY (domain, local_part)) ENGINE=InnoDB;
INSERT INTO mailbox VALUES ('dave', 'example.org'), ('erin-default', 'example.org'), ('', 'example.net'),
  ('frank', 'example.net');
CREATE PROCEDURE rcpt_exists (IN a VARCHAR(255)) SELECT 1 FROM rcptchecks_addresses WHERE address = a;
CREATE PROCEDURE domain_exists (IN d VARCHAR(255)) SELECT 1 FROM rcptchecks_domains WHERE domain = d;
SQL
is($db->sql("SELECT address FROM rcptchecks_addresses WHERE address LIKE 'a%'"), "a\\\\b\@example.org\nalice\@example.org\n",
  'the schema holds a literal backslash');

# rcptchecks under tcpserver in front of exim, the SQL source, no tarpit
sub chain {
  my (@opts) = @_;
  return start_tcpserver(opts => ['-R', '-H', '-l0'],
    argv => [$rcptchecks, '-g', $db->group, '-f', $db->cnf, '-d', '0', '-u', '0', '-M', '0', @opts, @{ $mta->argv }]);
}

# a session up to MAIL FROM; dies when the chain does not get that far
sub session {
  my ($srv) = @_;
  my $c = smtp_connect($srv->ip, $srv->port, timeout => 10);
  for (['', 220], ['EHLO client.example.com', 250], ['MAIL FROM:<sender@example.com>', 250]) {
    $c->sendline($_->[0]) if length $_->[0];
    my ($code, $text) = $c->read_reply(15);
    die "session setup: '$_->[0]' got " . ($text // 'nothing') . "\nlog:\n" . $srv->log_text
      unless defined $code && $code == $_->[1];
  }
  return $c;
}

# "RCPT TO:<$addr>" ($addr as on the wire); the whole reply
sub rcpt {
  my ($c, $addr, $timeout) = @_;
  return $c->cmd("RCPT TO:<$addr>", $timeout);
}

sub quit {
  my ($c) = @_;
  $c->sendline('QUIT');
  $c->read_reply(10);
  $c->close;
}

# what the chain logged after $mark (a length of ->log_text), once the
# session's closing line is there
sub session_log {
  my ($srv, $mark) = @_;
  wait_until(15, sub { substr($srv->log_text, $mark) =~ /^rcptchecks: info: .* rcpts=\d+ .*result=\S+$/m },
    'the session log line');
  return substr($srv->log_text, $mark);
}

sub status {
  my ($name) = @_;
  my ($v) = $db->sql("SHOW GLOBAL STATUS LIKE '$name'") =~ /^\Q$name\E\t(\d+)$/m or die "no status $name";
  return $v;
}

my $ok = qr/\A250 /;
my $unknown = qr/\A550 5\.1\.1 /;
my $tempfail = qr/\A451 4\.3\.0 /;

subtest 'known, unknown, extension, catch-all, foreign' => sub {
  my $srv = chain();
  my $mark = length $srv->log_text;
  my $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $ok, 'a listed address: 250 from exim');
  my $r = rcpt($c, 'nobody@example.org');
  like($r, qr/\A550 5\.1\.1 <nobody\@example\.org>/, 'an unknown address of a local domain: 550 5.1.1');
  like(rcpt($c, 'bob-x@example.org'), $ok, 'bob-x found through bob-default');
  like(rcpt($c, 'bob-x-y@example.org'), $ok, 'bob-x-y found through bob-default');
  like(rcpt($c, 'bob@example.org'), $unknown, 'bob itself is not listed: 550');
  like(rcpt($c, 'alice-list@example.org'), $ok, 'alice-list found through alice');
  like(rcpt($c, 'anyone@example.net'), $ok, 'anyone at example.net, through the catch-all @example.net');
  like(rcpt($c, 'nobody@example.org.'), qr/\A501 5\.1\.3 /, 'example.org. (trailing dot): 501 5.1.3, never looked up');
  $r = rcpt($c, 'Some.One@Other.Test');
  like($r, qr/\A550 relay not permitted/, 'a foreign domain goes to exim, which refuses the relay');
  $c->sendline('DATA');
  like(($c->read_reply(10))[1], qr/\A354 /, 'DATA: 354 (there are recipients)');
  $c->send("Subject: t\r\n\r\nhello\r\n.\r\n");
  like(($c->read_reply(20))[1], $ok, 'message accepted');
  quit($c);
  # one Maildir file per accepted recipient: alice, bob-x, bob-x-y,
  # alice-list, anyone@example.net
  $mta->wait_messages(5, 20);
  my $elog = $mta->log_text;
  is(scalar(my @m = $mta->messages), 5, 'five copies delivered, one per accepted recipient');
  like($elog, qr/ => alice <alice\@example\.org> /, 'exim delivered to alice');
  like($elog, qr/ => bob-x <bob-x\@example\.org> /, 'exim delivered to bob-x');
  unlike($elog, qr/nobody\@example\.org/i, 'exim never saw nobody@example.org');
  unlike($elog, qr/<bob\@example\.org>/i, 'exim never saw bob@example.org');
  like($elog, qr/rejected RCPT <Some\.One\@Other\.Test>: relay not permitted/, 'exim saw the foreign address unchanged');
  my $log = session_log($srv, $mark);
  like($log, qr/^rcptchecks: info: pid \d+ ip 127\.0\.0\.1 helo=<[^>]*> from=<[^>]*> rcpt=<nobody\@example\.org> result=unknown delay=0\.000$/m,
    'the unknown recipient is logged');
  unlike($log, qr/result=tempfail/, 'no lookup failed');

  # pipelined: the answers come in command order, lookups or not
  $c = session($srv);
  $c->send(join '', map { "RCPT TO:<$_>\r\n" }
    qw(nobody@example.org alice@example.org someone@other.test bob-x@example.org x@example.net nobody2@example.org));
  my @codes = map { ($c->read_reply(15))[1] =~ /\A(\d{3}[ -](?:5\.1\.1|relay)?)/ ? $1 : 'none' } 1 .. 6;
  is_deeply(\@codes, ['550 5.1.1', '250 ', '550 relay', '250 ', '250 ', '550 5.1.1'],
    'six pipelined RCPTs: answers in order');
  quit($c);

  # the catch-all is what lets example.net through: without it, 550
  $db->sql("DELETE FROM rcptchecks_addresses WHERE address = '\@example.net'");
  $c = session($srv);
  like(rcpt($c, 'anyone@example.net'), $unknown, 'catch-all removed: anyone@example.net gets 550 (the domain is local)');
  quit($c);
  $db->sql("INSERT INTO rcptchecks_addresses VALUES ('\@example.net')");
  $c = session($srv);
  like(rcpt($c, 'anyone@example.net'), $ok, 'catch-all back: 250 again');
  quit($c);
  $srv->stop;
};

subtest 'case folding and -C' => sub {
  my $srv = chain();
  my $c = session($srv);
  like(rcpt($c, 'Alice@Example.ORG'), $ok, 'Alice@Example.ORG found as alice@example.org');
  like(rcpt($c, 'BOB-X@EXAMPLE.ORG'), $ok, 'BOB-X@EXAMPLE.ORG found as bob-default');
  like(rcpt($c, 'Carol@example.org'), $unknown, 'Carol (stored with a capital) is looked up as carol: 550');
  quit($c);
  $srv->stop;

  $srv = chain('-C');
  $c = session($srv);
  like(rcpt($c, 'Carol@example.org'), $ok, '-C: Carol@example.org found as stored');
  like(rcpt($c, 'Carol@EXAMPLE.org'), $ok, '-C: the domain is still lower-cased');
  like(rcpt($c, 'carol@example.org'), $unknown, '-C: carol@example.org is another address: 550');
  like(rcpt($c, 'Alice@example.org'), $unknown, '-C: Alice@example.org is not alice: 550');
  like(rcpt($c, 'alice@example.org'), $ok, '-C: alice@example.org found');
  quit($c);
  $srv->stop;
};

subtest 'second schema: -D and -A, local part and domain apart' => sub {
  my $srv = chain('-D', 'SELECT 1 FROM mailbox WHERE domain = ? LIMIT 1',
    '-A', 'SELECT 1 FROM mailbox WHERE local_part = ? AND domain = ?');
  my $c = session($srv);
  like(rcpt($c, 'dave@example.org'), $ok, 'dave found in mailbox');
  like(rcpt($c, 'Dave@Example.Org'), $ok, 'Dave@Example.Org folded and found');
  like(rcpt($c, 'alice@example.org'), $unknown, 'alice (only in the default table) is unknown here');
  like(rcpt($c, 'erin-x@example.org'), $ok, 'erin-x found through erin-default');
  like(rcpt($c, 'erin@example.org'), $unknown, 'erin itself is unknown');
  like(rcpt($c, 'whoever@example.net'), $ok, 'catch-all: empty local part, domain example.net');
  like(rcpt($c, "x'or''='\@example.org"), $unknown, 'a quote in the local part: 550');
  like(rcpt($c, 'dave@example.com'), qr/\A550 relay not permitted/, 'a domain without rows goes to exim');
  quit($c);
  $db->sql("DELETE FROM mailbox WHERE local_part = '' AND domain = 'example.net'");
  $c = session($srv);
  like(rcpt($c, 'whoever@example.net'), $unknown, 'without the catch-all row: 550 (example.net is still local: frank)');
  like(rcpt($c, 'frank@example.net'), $ok, '... frank: 250');
  quit($c);
  $db->sql("INSERT INTO mailbox VALUES ('', 'example.net')");
  $srv->stop;
};

# SMTPUTF8 (rcptchecks-recipients.7, "The MariaDB source"): domains are asked as
# A-labels, then, for a domain with an A-label and no row, as U-labels
subtest 'a domain in U-labels or A-labels: either spelling in the table' => sub {
  $db->sql("INSERT INTO rcptchecks_domains VALUES ('b\xc3\xbccher.example'), ('xn--mller-kva.example');\n"
    . "INSERT INTO rcptchecks_addresses VALUES ('j\xc3\xb6rg\@b\xc3\xbccher.example'), ('anna\@xn--mller-kva.example');");
  my $srv = chain();
  my $c = smtp_connect($srv->ip, $srv->port, timeout => 10);
  for (['', 220], ['EHLO client.example.com', 250], ['MAIL FROM:<sender@example.com> SMTPUTF8', 250]) {
    $c->sendline($_->[0]) if length $_->[0];
    my ($code, $text) = $c->read_reply(15);
    die "session setup: '$_->[0]' got " . ($text // 'nothing') . "\nlog:\n" . $srv->log_text
      unless defined $code && $code == $_->[1];
  }
  my $known = qr/\A(?!550 5\.1\.1 )[25]\d\d /;   # passed on: exim answers
  like(rcpt($c, "j\xc3\xb6rg\@b\xc3\xbccher.example"), $known, 'jörg@bücher.example: the U-label row, asked second');
  like(rcpt($c, "j\xc3\xb6rg\@xn--bcher-kva.example"), $known, 'jörg@ at the A-label: the same domain and address');
  like(rcpt($c, 'x@xn--bcher-kva.example'), $unknown, 'an unknown address at it: 550 5.1.1 (the domain is local)');
  like(rcpt($c, "anna\@m\xc3\xbcller.example"), $known, 'anna@müller.example: the A-label row, asked first');
  like(rcpt($c, "x\@M\xc3\xbcLLER.example"), $unknown, 'an unknown address at müller.example: 550 5.1.1');
  quit($c);
  my $log = session_log($srv, 0);
  is(scalar(() = $log =~ /result=known /g), 3, 'the three found: result=known, none foreign') or diag $log;
  unlike($log, qr/result=foreign/, '... and none taken for a foreign domain');
  $srv->stop;
  $db->sql("DELETE FROM rcptchecks_domains WHERE domain IN ('b\xc3\xbccher.example', 'xn--mller-kva.example');\n"
    . "DELETE FROM rcptchecks_addresses WHERE address IN ('j\xc3\xb6rg\@b\xc3\xbccher.example', 'anna\@xn--mller-kva.example');");
};

subtest 'SQL injection strings are just addresses' => sub {
  my $tables = "SELECT domain FROM rcptchecks_domains ORDER BY domain;\n"
    . "SELECT address FROM rcptchecks_addresses ORDER BY address;\nSHOW TABLES;";
  my $before = $db->sql($tables);
  $db->sql("SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1;", 'mysql');
  my $srv = chain();
  my $mark = length $srv->log_text;
  my $c = session($srv);
  # as on the wire, between < and >: what rcptchecks' grammar takes
  # (atext: quotes, '=', '*', '#', '/', '|' are data) reaches SQL
  my @evil = (
    q{'OR'1'='1@example.org},
    q{x'--@example.org},
    q{'||'@example.org},
    q{x'/*@example.org},
    q{x'#@example.org},
    q{x'='x@example.org},
    q{_lice@example.org},
    q{a_b@example.org},
    q{*@example.org},
    q{{x}'@example.org},
  );
  for my $a (@evil) {
    like(rcpt($c, $a), $unknown, "<$a>: 550 5.1.1");
  }
  # quotes, backslashes, blanks, '%', ';' and comments: refused as
  # syntax (t/data/rcpt-forms), never looked up
  for my $a (q{"' OR '1'='1"@example.org}, q{"x'; DROP TABLE rcptchecks_addresses; --"@example.org},
             q{x';DROP/**/TABLE/**/rcptchecks_addresses;--@example.org}, q{"x\\\\"@example.org},
             q{alice\\\\@example.org}, q{%@example.org}, q{a%b@example.org}, q{"a\\\\b"@example.org},
             q{x'; DROP TABLE rcptchecks_addresses; --@example.org}, q{' OR 1=1 -- @example.org}) {
    like(rcpt($c, $a), qr/\A501 5\.1\.3 /, "<$a>: 501 5.1.3");
  }
  like(rcpt($c, q{o'brien@example.org}), $ok, q{<o'brien@example.org>, which is listed: 250 (the quote is data)});
  like(rcpt($c, q{ab@example.org}), $unknown, 'ab@example.org is unknown');
  # injections in the domain: not a DNS name, refused, never looked up
  for my $a (q{alice@x'or'1'='1}, q{alice@%}, q{alice@example.%}, q{alice@_xample.org}) {
    like(rcpt($c, $a), qr/\A501 5\.1\.3 /, "<$a>: 501 5.1.3");
  }
  quit($c);
  my $log = session_log($srv, $mark);
  $db->sql('SET GLOBAL general_log = 0;', 'mysql');
  is($db->sql($tables), $before, 'both tables and their rows are intact');
  unlike($log, qr/result=tempfail/, 'no lookup failed');
  like($log, qr/^rcptchecks: info: .* helo=<[^>]*> from=<[^>]*> rcpt=<'OR'1'='1\@example\.org> result=unknown/m,
    'the OR 1=1 address is logged as unknown');
  my $gl = $db->sql("SELECT command_type, REPLACE(REPLACE(argument, '\\n', ' '), '\\t', ' ') FROM general_log "
    . "WHERE user_host LIKE 'mxtest[%' ORDER BY event_time", 'mysql');
  my %n;
  $n{ (split /\t/)[0] }++ for split /\n/, $gl;
  is($n{Prepare}, 2, 'two statements prepared for the session') or diag $gl;
  ok(($n{Execute} // 0) > @evil, 'the lookups are executions of prepared statements');
  unlike($gl, qr/^Query\t.*rcptchecks_/m, 'no lookup was sent as a plain query');
  $srv->stop;
};

subtest 'one connection per session' => sub {
  my $srv = chain();
  # a session that looks nothing up connects to nothing
  my $conn0 = status('Connections');
  my $mark = length $srv->log_text;
  my $c = session($srv);
  $c->sendline('RSET');
  $c->read_reply(10);
  quit($c);
  session_log($srv, $mark);
  is(status('Connections') - $conn0, 1, 'a session without RCPT does not connect (only the status query did)');

  my $aborted0 = status('Aborted_clients');
  $conn0 = status('Connections');
  $mark = length $srv->log_text;
  $c = session($srv);
  my @r = map { rcpt($c, $_) } qw(alice@example.org nobody@example.org bob-x@example.org
    Alice@Example.ORG anyone@example.net someone@other.test alice-x-y-z@example.org);
  $c->sendline('RSET');
  $c->read_reply(10);
  $c->sendline('MAIL FROM:<s@example.com>');
  $c->read_reply(10);
  push @r, rcpt($c, 'alice@example.org');
  is(scalar(grep { /\A[245]\d\d / } @r), 8, 'eight RCPT answers');
  quit($c);
  my $log = session_log($srv, $mark);
  like($log, qr/rcpts=8 /, 'rcptchecks counted eight RCPTs');
  is(status('Connections') - $conn0 - 1, 1, 'eight RCPTs, one MariaDB connection');
  is(status('Aborted_clients'), $aborted0, 'the connection was closed properly at the end of the session');
  $srv->stop;

  # a trusted client: rcptchecks relays its session unchecked, and never connects
  $srv = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => '' },
    argv => [$rcptchecks, '-g', $db->group, '-f', $db->cnf, @{ $mta->argv }]);
  $conn0 = status('Connections');
  $mark = length $srv->log_text;
  $c = session($srv);
  like(rcpt($c, 'nobody@example.org'), $ok, 'RELAYCLIENT set: nobody@example.org goes to exim');
  quit($c);
  wait_until(15, sub { substr($srv->log_text, $mark) =~ /^tcpserver: end /m }, 'the session end');
  like(substr($srv->log_text, $mark), qr/^rcptchecks: info: pid \d+ ip \S+ result=trusted$/m, '... logged as trusted')
    or diag $srv->log_text;
  is(status('Connections') - $conn0, 1, '... and MariaDB was not asked');
  $srv->stop;
};

subtest 'the server closes the connection: idle timeout, KILL' => sub {
  my $srv = chain('-T', '2');
  my $mark = length $srv->log_text;
  my $mxtest = sub { $db->sql("SELECT id FROM information_schema.processlist WHERE user = 'mxtest'") };
  my $wt = $db->sql('SELECT @@GLOBAL.wait_timeout');
  chomp $wt;
  $db->sql('SET GLOBAL wait_timeout = 1');
  my $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $ok, 'wait_timeout 1: the first RCPT connects, 250');
  wait_until(10, sub { $mxtest->() eq '' }, 'MariaDB to close the idle connection');
  $db->sql("SET GLOBAL wait_timeout = $wt");
  my $conn0 = status('Connections');
  like(rcpt($c, 'alice@example.org'), $ok, 'after MariaDB closed the idle connection: 250');
  is(status('Connections') - $conn0 - 1, 1, '... on a new connection');
  my ($id) = $mxtest->() =~ /^(\d+)$/m;
  ok($id, "rcptchecks' connection is in the process list");
  $db->sql("KILL CONNECTION $id");
  like(rcpt($c, 'bob-x@example.org'), $ok, 'after KILL CONNECTION: 250');
  like(rcpt($c, 'nobody@example.org'), $unknown, '... and 550 for an unknown address');
  quit($c);
  unlike(session_log($srv, $mark), qr/result=tempfail/, 'no lookup failed');
  $srv->stop;
};

subtest 'MariaDB stopped, killed and restarted during a session' => sub {
  my $srv = chain('-T', '2');
  my $mark = length $srv->log_text;
  my $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $ok, 'MariaDB up: 250');
  $db->stop;
  my $r = rcpt($c, 'alice@example.org');
  like($r, $tempfail, 'MariaDB stopped: a listed address gets 451 4.3.0');
  unlike($r, qr/\A(?:250|550)/, '... never 250 or 550');
  like(rcpt($c, 'nobody@example.org'), $tempfail, 'MariaDB stopped: an unknown address gets 451 4.3.0, not 550');
  $db->start;
  like(rcpt($c, 'alice@example.org'), $ok, 'MariaDB started again: the same session gets 250');
  like(rcpt($c, 'nobody@example.org'), $unknown, '... and 550 for an unknown address');
  quit($c);
  my $log = session_log($srv, $mark);
  like($log, qr/^rcptchecks: warning: pid \d+ ip 127\.0\.0\.1 helo=<[^>]*> from=<[^>]*> rcpt=<alice\@example\.org> result=tempfail error=\S.*$/m,
    'the failed lookup is logged as a warning with result=tempfail');
  like($log, qr/result=tempfail error=.*(?:connect|server|Lost|gone)/i, '... with the reason') or diag $log;
  like($log, qr/ rcpts=5 .*tempfail=2 /, 'the session line counts two tempfails');

  $mark = length $srv->log_text;
  $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $ok, 'a new session after the restart: 250');
  # a crash and a restart between two RCPTs: the lost connection is
  # reopened within the lookup, the client notices nothing
  $db->kill;
  $db->start;
  like(rcpt($c, 'alice@example.org'), $ok, 'MariaDB killed and restarted between RCPTs: 250 (reconnected)');
  $db->kill;
  $r = rcpt($c, 'alice@example.org');
  like($r, $tempfail, 'MariaDB killed: 451 4.3.0');
  $db->start;
  like(rcpt($c, 'bob-x@example.org'), $ok, 'restarted after the crash: the same session gets 250');
  quit($c);
  $log = session_log($srv, $mark);
  is(scalar(() = $log =~ /result=tempfail error=/g), 1, 'one tempfail logged in that session');
  $srv->stop;
};

subtest 'five failed lookups in a row end the session' => sub {
  my $srv = chain('-T', '2');
  $db->kill;
  my $mark = length $srv->log_text;
  my $c = session($srv);
  # replies come in order: a 421 too early would take a 451's place
  my @r = map { rcpt($c, "user$_\@example.org") } 1 .. 4;
  is(scalar(grep { /\A451 4\.3\.0 [^\n]*\n\z/ } @r), 4, 'four failed lookups: four plain 451s') or diag explain \@r;
  like(rcpt($c, 'user5@example.org'), $tempfail, 'the fifth: 451 4.3.0');
  like(($c->read_reply(5))[1], qr/\A421 4\.3\.0 /, '... then 421 4.3.0');
  ok($c->is_closed(5), 'the connection closes');
  my $log = session_log($srv, $mark);
  is(scalar(() = $log =~ /result=tempfail error=/g), 5, 'five tempfails logged');
  like($log, qr/^rcptchecks: info: .* rcpts=5 .*tempfail=5 .*result=lookups-failed$/m, 'the session ends with result=lookups-failed');
  $db->start;

  # "in a row": a lookup that succeeds starts the count again. The
  # address query fails (subquery with two rows) for boom@example.org only.
  $db->sql("CREATE TABLE boom (k VARBINARY(320), v INT);
    INSERT INTO boom VALUES ('boom\@example.org', 1), ('boom\@example.org', 2);");
  my $srv2 = chain('-A', 'SELECT 1 FROM rcptchecks_addresses a WHERE a.address = ? '
    . 'AND (SELECT v FROM boom WHERE boom.k = a.address) IS NULL');
  $db->sql("INSERT INTO rcptchecks_addresses VALUES ('boom\@example.org')");
  $c = session($srv2);
  @r = map { rcpt($c, 'boom@example.org') } 1 .. 4;
  is(scalar(grep { /\A451 4\.3\.0 [^\n]*\n\z/ } @r), 4, 'four failed lookups: 451') or diag explain \@r;
  like(rcpt($c, 'alice@example.org'), $ok, 'then one that works: 250');
  @r = map { rcpt($c, 'boom@example.org') } 1 .. 4;
  is(scalar(grep { /\A451 4\.3\.0 [^\n]*\n\z/ } @r), 4, 'four more failures: 451 without 421 (the count restarted)')
    or diag explain \@r;
  like(rcpt($c, 'nobody@example.org'), $unknown, 'the session is still open: 550 for an unknown address');
  like(rcpt($c, 'boom@example.org'), $tempfail, 'a failure after a 550: 451');
  $c->sendline('QUIT');
  like(($c->read_reply(10))[1], qr/\A221 /, '... and no 421: QUIT gets 221');
  $c->close;
  $db->sql("DELETE FROM rcptchecks_addresses WHERE address = 'boom\@example.org'; DROP TABLE boom;");
  $srv2->stop;
  $srv->stop;
};

subtest 'bad queries' => sub {
  my @bad = (
    ['-A', 'SELEC 1 FROM rcptchecks_addresses WHERE address = ?', qr/error=unable to prepare a query: .*SQL syntax/, 'a syntax error in -A'],
    ['-A', 'SELECT 1 FROM no_such_table WHERE address = ?', qr/error=unable to prepare a query: .*no_such_table.* doesn't exist/, 'an unknown table in -A'],
    ['-A', 'SELECT 1 FROM rcptchecks_addresses WHERE address = ? OR address = ? OR address = ?', qr/error=the address query must have one or two \?/, 'three ? in -A'],
    ['-A', "SELECT 1 FROM rcptchecks_addresses WHERE address = 'alice\@example.org'", qr/error=the address query must have one or two \?/, 'no ? in -A'],
    ['-A', 'SELECT 1 FROM rcptchecks_addresses WHERE nosuchcolumn = ?', qr/error=unable to prepare a query: .*nosuchcolumn/, 'an unknown column in -A'],
    ['-D', 'SELECT 1 FROM rcptchecks_domains WHERE domain = ? OR domain = ?', qr/error=the domain query must have one \?/, 'two ? in -D'],
    ['-D', 'SELECT 1 FROM rcptchecks_domains WHERE', qr/error=unable to prepare a query: .*SQL syntax/, 'a syntax error in -D'],
    ['-D', "SELECT 1 FROM rcptchecks_domains WHERE domain = 'example.org'", qr/error=the domain query must have one \?/, 'no ? in -D'],
    # statements that return no result set at all are no answer: not
    # "no row" (which would refuse every recipient, or pass every domain)
    ['-A', 'DO ?', qr/error=\S/, 'a statement without a result set (DO ?) in -A'],
    ['-A', 'UPDATE rcptchecks_addresses SET address = address WHERE address = ?', qr/error=\S/, 'an UPDATE in -A'],
    ['-D', 'DO ?', qr/error=\S/, 'a statement without a result set (DO ?) in -D'],
  );
  for my $b (@bad) {
    my ($opt, $sql, $re, $name) = @$b;
    my $srv = chain($opt, $sql);
    my $mark = length $srv->log_text;
    my $c = session($srv);
    like(rcpt($c, 'alice@example.org'), $tempfail, "$name: a listed address gets 451");
    like(rcpt($c, 'nobody@example.org'), $tempfail, "$name: an unknown address gets 451, not 550");
    quit($c);
    my $log = session_log($srv, $mark);
    like($log, qr/^rcptchecks: warning: pid \d+ ip \S+ helo=<[^>]*> from=<[^>]*> rcpt=<nobody\@example\.org> result=tempfail $re/m,
      "$name: logged with the reason") or diag $log;
    $srv->stop;
  }
};

# a CALL (like DO or UPDATE) has no result columns when it is prepared:
# refused as a query, so that it can neither make every recipient
# unknown nor every domain foreign
subtest 'stored procedures are refused as queries' => sub {
  for my $opts (['-A', 'CALL rcpt_exists(?)'], ['-D', 'CALL domain_exists(?)', '-A', 'CALL rcpt_exists(?)']) {
    my $name = join ' ', map { /^-/ ? $_ : "'$_'" } @$opts;
    my $srv = chain(@$opts);
    my $mark = length $srv->log_text;
    my $c = session($srv);
    like(rcpt($c, 'alice@example.org'), $tempfail, "$name: alice, 451");
    like(rcpt($c, 'nobody@example.org'), $tempfail, "$name: nobody, 451 (never 550)");
    quit($c);
    my $log = session_log($srv, $mark);
    like($log, qr/result=tempfail error=the query must be a SELECT/, "$name: logged: the query must be a SELECT") or diag $log;
    $srv->stop;
  }
};

subtest 'option file missing, unreadable, or without the group' => sub {
  my $dir = tmpdir();
  chmod 0711, $dir;
  my $srv = chain('-f', "$dir/missing.cnf");
  my $mark = length $srv->log_text;
  my $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $tempfail, 'missing option file: 451');
  like(rcpt($c, 'nobody@example.org'), $tempfail, '... also for an unknown address');
  quit($c);
  like(session_log($srv, $mark), qr/result=tempfail error=unable to read option file \Q$dir\E\/missing\.cnf: No such file or directory$/m,
    '... logged: unable to read option file, and why');
  $srv->stop;

  $srv = chain('-g', 'nosuchgroup');
  $mark = length $srv->log_text;
  $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $tempfail, 'a group not in the option file: 451');
  quit($c);
  like(session_log($srv, $mark), qr/result=tempfail error=.*group nosuchgroup/m, '... logged with the group named');
  $srv->stop;

  my $wrong = "$dir/wrong.cnf";
  {
    open my $in, '<', $db->cnf or die;
    (my $text = do { local $/; <$in> }) =~ s/^password=.*$/password=wrong/m or die;
    open my $out, '>', $wrong or die;
    print {$out} $text;
    close $out or die;
  }
  $srv = chain('-f', $wrong);
  $mark = length $srv->log_text;
  $c = session($srv);
  like(rcpt($c, 'alice@example.org'), $tempfail, 'a wrong password: 451');
  quit($c);
  like(session_log($srv, $mark), qr/result=tempfail error=unable to connect \(MariaDB group mxtest\): Access denied for user 'mxtest'/m,
    '... logged: access denied');
  $srv->stop;

  # unreadable: root reads everything, so rcptchecks (and exim) run as
  # Debian-exim, which may read the test's option file but not a copy
  # that is root's alone
  my ($uid, $gid) = (getpwnam 'Debian-exim')[2, 3];
  my $secret = "$dir/secret.cnf";
  {
    open my $in, '<', $db->cnf or die;
    open my $out, '>', $secret or die;
    print {$out} <$in>;
    close $out or die;
  }
  chmod 0600, $secret;
  for my $case ([$db->cnf, $ok, 'readable option file as Debian-exim: 250'],
                [$secret, $tempfail, 'option file unreadable for Debian-exim: 451']) {
    my ($cnf, $re, $name) = @$case;
    $srv = start_tcpserver(opts => ['-R', '-H', '-l0', '-u', $uid, '-g', $gid],
      argv => [$rcptchecks, '-g', $db->group, '-f', $cnf, '-d', '0', '-u', '0', @{ $mta->argv }]);
    $mark = length $srv->log_text;
    $c = session($srv);
    like(rcpt($c, 'alice@example.org'), $re, $name);
    quit($c);
    my $log = session_log($srv, $mark);
    if ($cnf eq $secret) {
      like($log, qr/result=tempfail error=unable to read option file \Q$secret\E: Permission denied$/m,
        '... logged: unable to read option file, permission denied');
    }
    $srv->stop;
  }
};

subtest 'a query slower than -T' => sub {
  my $srv = chain('-T', '1', '-A', 'SELECT SLEEP(10) FROM rcptchecks_addresses WHERE address = ?');
  my $mark = length $srv->log_text;
  my $c = session($srv);
  my $t0 = time;
  my $r = rcpt($c, 'alice@example.org', 20);
  my $took = time - $t0;
  like($r, $tempfail, 'a lookup that sleeps 10 s with -T 1: 451');
  # < 8: room for a loaded machine, under the 10 s of the SLEEP that an
  # ignored -T would wait out
  ok($took >= 0.9 && $took < 8, sprintf 'answered after %.1f s (one read timeout, one reconnect and retry: about 2 s)', $took);
  $t0 = time;
  like(rcpt($c, 'nobody@example.org'), $unknown, 'an address without rows (no sleep): 550 on the same session');
  # < 5: room for a loaded machine; a connection still stuck in the
  # SLEEP would hold this one for most of its 10 s
  ok(time - $t0 < 5, sprintf '... at once (%.1f s)', time - $t0);
  quit($c);
  like(session_log($srv, $mark), qr/rcpt=<alice\@example\.org> result=tempfail error=query failed: /m, 'the timeout is logged');
  $srv->stop;

  # a "server" that accepts TCP connections (the kernel does) and never
  # says a word
  my $ip = loopback_ip();
  my $mute = IO::Socket::IP->new(LocalHost => $ip, LocalPort => 0, Listen => 5) or die "listen on $ip: $@";
  my $cnf = tmpdir() . '/mute.cnf';
  open my $fh, '>', $cnf or die;
  print {$fh} "[mxtest]\nhost=$ip\nport=" . $mute->sockport . "\nuser=mxtest\npassword=x\ndatabase=mxtest\n";
  close $fh or die;
  $srv = chain('-f', $cnf, '-T', '1');
  $mark = length $srv->log_text;
  $c = session($srv);
  $t0 = time;
  like(rcpt($c, 'alice@example.org', 20), $tempfail, 'a server that never greets, -T 1: 451');
  $took = time - $t0;
  # < 6: room for a loaded machine; without -T the silent server holds
  # the lookup until the client's 20 s
  ok($took >= 0.9 && $took < 6, sprintf '... after %.1f s', $took);
  quit($c);
  like(session_log($srv, $mark), qr/result=tempfail error=unable to connect \(MariaDB group mxtest\): /m, '... logged: unable to connect');
  $srv->stop;
  close $mute;
};

subtest 'usage errors of the SQL options' => sub {
  my @argv = ('/bin/true');
  for my $bad (
    [['-g', $db->group, '-T', '0'], '-T 0'],
    [['-g', $db->group, '-T', '3601'], '-T 3601'],
    [['-g', $db->group, '-T', '1.5'], '-T 1.5 (whole seconds)'],
    [['-g', ''], 'an empty group'],
    [['-g', $db->group, '-c', '/dev/null'], '-c with -g'],
    [['-f', $db->cnf], '-f without -g'],
    [['-D', 'SELECT 1 FROM d WHERE d = ?'], '-D without -g'],
    [['-A', 'SELECT 1 FROM a WHERE a = ?'], '-A without -g'],
    [['-T', '5'], '-T without -g'],
    [['-C'], '-C without -g'],
  ) {
    my ($opts, $name) = @$bad;
    my ($rc, $out, $err) = run_cmd(argv => [$rcptchecks, @$opts, @argv], timeout => 10);
    is($rc, 100, "$name: exit 100");
    like($err, qr/^rcptchecks: usage: rcptchecks \[ -c cdb \| -g group/, "$name: the usage message");
  }
};

$db->stop;
done_testing;

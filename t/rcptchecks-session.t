#!/usr/bin/perl
# Several transactions in one rcptchecks session, as a client that keeps
# its connection sends them: MAIL, RCPT and DATA two and three times,
# with refused recipients in between and no RSET, through the real
# exim4 -bs and through a scripted server (t/bin/smtp-script) whose log
# shows every line that reached it. Checked: the end of the data ends
# the transaction (a MAIL without RSET after it is taken and checked as
# a new one), no refused RCPT ever reaches the server, each message
# goes to its own recipients; and a refused second EHLO takes back what
# the first one offered (a SIZE parameter then never reaches the
# server).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $bin = "$top/rcptchecks/rcptchecks";
my $make = "$top/rcptchecks/rcptchecks-make";
my $script = "$top/t/bin/smtp-script";
plan skip_all => "$bin not built" unless -x $bin && -x $make;

my $dir = tmpdir();
my $cdb = "$dir/recipients.cdb";
make_cdb(recipients => "example.org\nalice\@example.org\nbob\@example.org\ncarol\@example.org\n", $cdb);
my $n = 0;

# rcptchecks (no tarpit delay) in front of argv
sub guarded {
  my (@argv) = @_;
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
    argv => [$bin, '-c', $cdb, '-u', '0', '-d', '0', '-t', '20', @argv]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => loopback_ip(), timeout => 10);
  return ($s, $c);
}

sub cmd {
  my ($c, $line) = @_;
  $c->sendline($line);
  return ($c->read_reply(10))[1] // '(nothing)';
}

# the session's own line, once the session is over
sub session_line {
  my ($s) = @_;
  my $re = qr/^rcptchecks: info: pid \d+ ip \S+ helo=<[^>]*> from=<[^>]*> rcpts=.* result=\S+$/m;
  wait_until(15, sub { $s->log_text =~ $re }, 'the session line');
  return ($s->log_text =~ /($re)/)[0] // '';
}

# one transaction: MAIL, the RCPTs (each [address, reply regex]), DATA
# and a message with this subject
sub transaction {
  my ($c, $from, $subject, @rcpts) = @_;
  like(cmd($c, "MAIL FROM:<$from>"), qr/^250 /, "$subject: MAIL FROM:<$from> taken, no RSET before it");
  for my $r (@rcpts) {
    # [address, reply] or [name, a whole command, reply]
    my ($line, $want) = @$r == 3 ? @$r[1, 2] : ("RCPT TO:<$r->[0]>", $r->[1]);
    like(cmd($c, $line), $want, "$subject: $line");
  }
  like(cmd($c, 'DATA'), qr/^354 /, "$subject: DATA");
  like(cmd($c, "Subject: $subject\r\n\r\nbody of $subject\r\n."), qr/^250 /, "$subject: the message taken");
}

my $KNOWN = qr/^250 /;
my $UNKNOWN = qr/^550 5\.1\.1 /;

subtest 'three transactions through exim4 -bs, refused recipients in between, no RSET' => sub {
  my $mta = exim_child();
  my ($s, $c) = guarded(@{ $mta->argv });
  $c->expect(qr/^220 /, 10, 'greeting');
  like(cmd($c, 'EHLO client.test'), qr/^250[ -]/, 'EHLO');
  transaction($c, 'a@example.com', 'first', ['alice@example.org', $KNOWN], ['nobody@example.org', $UNKNOWN]);
  transaction($c, 'b@example.com', 'second', ['ghost@example.org', $UNKNOWN], ['bob@example.org', $KNOWN], ['carol@example.org', $KNOWN]);
  transaction($c, '', 'third', ['nested', 'MAIL FROM:<nested@example.com>', qr/^503 5\.5\.1 /], ['carol@example.org', $KNOWN], ['nobody2@example.org', $UNKNOWN]);
  like(cmd($c, 'QUIT'), qr/^221 /, 'QUIT');
  like(session_line($s), qr/ rcpts=7 forwarded=4 unknown=3 .* messages=3 .*result=quit$/, 'the session line counts 7 RCPTs, 4 passed on, 3 messages');
  $mta->wait_messages(4);
  my $log = $mta->log_text;
  # each message (exim's id): its sender and the recipients it went to
  my (%from, %to, @order);
  for ($log =~ /^.* \S+ (?:<=|=>) .*$/mg) {
    if (/ (\S+) <= (\S+) /) { $from{$1} = $2; push @order, $1 }
    elsif (/ (\S+) => \S+ <([^>]+)>/) { push @{ $to{$1} }, $2 }
  }
  is_deeply([map { [$from{$_}, sort @{ $to{$_} || [] }] } @order],
    [['a@example.com', 'alice@example.org'], ['b@example.com', 'bob@example.org', 'carol@example.org'], ['<>', 'carol@example.org']],
    'exim took three messages, each from its sender to its own known recipients') or diag $log;
  unlike($log, qr/nobody|ghost/, 'no refused recipient reached exim');
  my %subjects = map { (/^Subject: (\S+)/m)[0] // '' => 1 } map { slurp($_) } $mta->messages;
  is_deeply([sort keys %subjects], ['first', 'second', 'third'], 'each message delivered');
  $s->stop;
};

subtest 'three transactions through a scripted server: what reaches it, line by line' => sub {
  my $log = "$dir/server-" . ++$n;
  open my $fh, '>', $log or die; close $fh;
  my ($s, $c) = guarded($script, $log, '220 scripted\r\n', '^EHLO', '250-scripted\r\n250-PIPELINING\r\n250 8BITMIME\r\n',
    '^DATA', '354 go\r\n', '^\.$', '250 queued\r\n', '^QUIT', '221 bye\r\n\e');
  $c->expect(qr/^220 /, 10, 'greeting');
  like(cmd($c, 'EHLO client.test'), qr/^250 8BITMIME/m, 'EHLO');
  transaction($c, 'a@example.com', 'one', ['nobody@example.org', $UNKNOWN], ['alice@example.org', $KNOWN]);
  transaction($c, 'b@example.com', 'two', ['bob@example.org', $KNOWN], ['ghost@example.org', $UNKNOWN]);
  transaction($c, 'c@example.com', 'three', ['carol@example.org', $KNOWN]);
  like(cmd($c, 'QUIT'), qr/^221 /, 'QUIT');
  session_line($s);
  my @seen = grep { !/^data: / } split /\n/, slurp($log);
  is_deeply(\@seen, ['EHLO client.test',
      'MAIL FROM:<a@example.com>', 'RCPT TO:<alice@example.org>', 'DATA', '.',
      'MAIL FROM:<b@example.com>', 'RCPT TO:<bob@example.org>', 'DATA', '.',
      'MAIL FROM:<c@example.com>', 'RCPT TO:<carol@example.org>', 'DATA', '.', 'QUIT'],
    'the server got each transaction, and no refused RCPT') or diag slurp($log);
  $s->stop;
};

subtest 'the second MAIL after the data is checked as a new transaction (sender checks)' => sub {
  my $mta = exim_child();
  my ($s, $c) = guarded('-E', 'sender-fqdn', @{ $mta->argv });
  $c->expect(qr/^220 /, 10, 'greeting');
  like(cmd($c, 'EHLO client.test'), qr/^250[ -]/, 'EHLO');
  transaction($c, 'a@example.com', 'first', ['alice@example.org', $KNOWN]);
  like(cmd($c, 'MAIL FROM:<nodomain>'), qr/^553 5\.1\.7 <nodomain>: /, 'a second sender not fully qualified: 553 from the sender check');
  like(cmd($c, 'RCPT TO:<alice@example.org>'), qr/^503 /, 'no transaction then: the server says 503 to RCPT');
  transaction($c, 'b@example.com', 'second', ['bob@example.org', $KNOWN]);
  like(cmd($c, 'QUIT'), qr/^221 /, 'QUIT');
  like(session_line($s), qr/ from=<> .*messages=2 /, 'two messages, and the data ended the last transaction (from=<>)');
  $s->stop;
};

# exim refuses an EHLO name with '_' (helo_allow_chars is empty)
subtest 'a refused second EHLO takes back what the first offered' => sub {
  my $mta = exim_child();
  my ($s, $c) = guarded(@{ $mta->argv });
  $c->expect(qr/^220 /, 10, 'greeting');
  like(cmd($c, 'EHLO client.test'), qr/^250[- ]SIZE/m, 'the first EHLO offers SIZE');
  like(cmd($c, 'EHLO bad_name'), qr/^501 /, 'the second EHLO: exim refuses it');
  like(cmd($c, 'MAIL FROM:<a@example.com> SIZE=100'), qr/^555 5\.5\.4 MAIL parameter not recognised/, 'MAIL with SIZE: 555 from rcptchecks');
  like(cmd($c, 'MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL without it: passed on');
  like(cmd($c, 'QUIT'), qr/^221 /, 'QUIT');
  $s->stop;

  my $log = "$dir/server-" . ++$n;
  open my $fh, '>', $log or die; close $fh;
  ($s, $c) = guarded($script, $log, '220 scripted\r\n', '^EHLO bad', '501 bad name\r\n', '^EHLO', '250-scripted\r\n250 SIZE 1000\r\n',
    '^QUIT', '221 bye\r\n\e');
  $c->expect(qr/^220 /, 10, 'greeting');
  like(cmd($c, 'EHLO client.test'), qr/^250 SIZE 1000/m, 'scripted: the first EHLO offers SIZE');
  like(cmd($c, 'MAIL FROM:<a@example.com> SIZE=10'), qr/^250 /, 'scripted: SIZE passes after it');
  like(cmd($c, 'RSET'), qr/^250 /, 'RSET');
  like(cmd($c, 'EHLO bad'), qr/^501 /, 'scripted: the second EHLO refused');
  like(cmd($c, 'MAIL FROM:<a@example.com> SIZE=20'), qr/^555 5\.5\.4 /, 'scripted: SIZE after it: 555');
  like(cmd($c, 'QUIT'), qr/^221 /, 'QUIT');
  session_line($s);
  my $seen = slurp($log);
  like($seen, qr/^MAIL FROM:<a\@example\.com> SIZE=10$/m, 'the first SIZE reached the server');
  unlike($seen, qr/SIZE=20/, 'the one after the refused EHLO did not') or diag $seen;
  $s->stop;
};

done_testing;

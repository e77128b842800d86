#!/usr/bin/perl
# rcptchecks and the server behind it must agree on where the session
# stands. A scripted server (t/bin/smtp-script) offers what rcptchecks
# cannot follow (PRDR, XCLIENT, XFORWARD, ...) and answers out of step;
# the real exim4 -bs shows what an overlong line would do. Checked: the
# client never sees an extension rcptchecks does not understand, nothing
# of one reaches the server, a reply that matches no command ends the
# session with 421 (never a 250 the server did not give to that
# command), the server's own last word is passed on alone, and every
# line is judged by a limit below the server's command buffer.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
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
make_cdb(recipients => "example.org\nalice\@example.org\n", $cdb);
my $OUT_OF_STEP = qr/^421 4\.3\.0 mail server out of step, closing connection\r\n\z/;
my $n = 0;

# rcptchecks in front of smtp-script with these rules; returns the
# server, the client and the script's log of what reached it
sub scripted {
  my ($greeting, @rules) = @_;
  my $log = "$dir/server-" . ++$n;
  open my $fh, '>', $log or die; close $fh;
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
    argv => [$bin, '-c', $cdb, '-u', '0', '-t', '20', $script, $log, $greeting, @rules]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => loopback_ip(), timeout => 10);
  return ($s, $c, $log);
}


sub session_result {
  my ($s) = @_;
  my $re = qr/^rcptchecks: info: pid \d+ ip \S+ helo=<[^>]*> from=<[^>]*> rcpts=.* result=(\S+)$/m;
  wait_until(15, sub { $s->log_text =~ $re }, 'the session line');
  return ($s->log_text =~ $re)[0] // '';
}

# (SMTPUTF8 is kept when the server offers it: t/smtputf8.t; here it
# offers none, so its MAIL parameter is one more not offered)
subtest 'extensions rcptchecks cannot follow are neither offered nor passed on' => sub {
  my ($s, $c, $log) = scripted('220 scripted ESMTP\r\n',
    '^EHLO', '250-scripted\r\n250-PIPELINING\r\n250-PRDR\r\n250-XCLIENT ADDR NAME PORT PROTO HELO LOGIN\r\n'
      . '250-XFORWARD NAME ADDR PROTO HELO\r\n250-CHUNKING\r\n250-STARTTLS\r\n250-SIZE 1000000\r\n'
      . '250-ETRN\r\n250-X-SECRET\r\n250 8BITMIME\r\n',
    '^DATA', '354 go\r\n', '^\.$', '250 queued\r\n', '^QUIT', '221 bye\r\n\e');
  $c->expect(qr/^220 scripted/, 10, 'greeting');
  my $ehlo = $c->cmd('EHLO client.test');
  is($ehlo, "250-scripted\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250 8BITMIME\r\n", 'EHLO: only PIPELINING, SIZE and 8BITMIME are left');
  for my $x ('XCLIENT ADDR=127.0.0.1 NAME=localhost', 'XFORWARD ADDR=127.0.0.1', 'ETRN example.org', 'BDAT 10 LAST', 'STARTTLS', 'X-SECRET') {
    like($c->cmd($x), qr/^502 5\.5\.1 /, "$x: 502 from rcptchecks");
  }
  like($c->cmd('VRFY alice'), qr/^252 2\.5\.2 /, 'VRFY: 252 from rcptchecks, no harvesting through the server');
  for my $p ('PRDR', 'SMTPUTF8', 'BODY=BINARYMIME', 'XCLIENT=1') {
    like($c->cmd("MAIL FROM:<a\@example.com> $p"), qr/^555 5\.5\.4 /, "MAIL FROM with $p: 555");
  }
  like($c->cmd('MAIL FROM:<a@example.com> SIZE=100 BODY=8BITMIME'), qr/^250 ok/, 'MAIL FROM with SIZE and BODY=8BITMIME: the server\'s 250');
  like($c->cmd('RCPT TO:<alice@example.org> NOTIFY=NEVER'), qr/^555 5\.5\.4 /, 'RCPT with NOTIFY (no DSN offered): 555');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 ok/, 'RCPT alice: passed on');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  like($c->cmd("Subject: x\r\n\r\nbody\r\n."), qr/^250 queued/, 'the message');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my $seen = slurp($log);
  unlike($seen, qr/XCLIENT|XFORWARD|ETRN|BDAT|STARTTLS|X-SECRET|VRFY|PRDR|SMTPUTF8|BINARYMIME|NOTIFY/, 'none of it reached the server') or diag $seen;
  like($seen, qr/^MAIL FROM:<a\@example\.com> SIZE=100 BODY=8BITMIME$/m, '... what is understood did');
  $s->stop;

  # after HELO no ESMTP parameter at all
  ($s, $c, $log) = scripted('220 scripted\r\n', '^HELO', '250 scripted\r\n', '^EHLO', '250-scripted\r\n250 SIZE 10\r\n');
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250 SIZE 10/m, 'EHLO offers SIZE');
  like($c->cmd('HELO client.test'), qr/^250 /, 'then HELO');
  like($c->cmd('MAIL FROM:<a@example.com> SIZE=10'), qr/^555 /, 'SIZE after HELO: 555');
  $s->stop;
};

# each: a server that answers out of step, what the client does, and
# what the server says that nobody asked for
my @out_of_step = (
  ['two replies to one command', ['^NOOP', '250 ok\r\n250 extra\r\n'], ['NOOP']],
  ['a reply to nothing', ['^NOOP', '250 ok\r\n\d250 surprise\r\n'], ['NOOP'], 1],
  ['PRDR-style replies after the data', ['^MAIL', '250 ok\r\n', '^RCPT', '250 ok\r\n', '^DATA', '354 go\r\n',
      '^\.$', '353 PRDR content analysis beginning\r\n250 ok for alice\r\n250 accepted\r\n'],
    ['MAIL FROM:<a@example.com>', 'RCPT TO:<alice@example.org>', 'DATA', "Subject: x\r\n\r\nbody\r\n."]],
  ['354 to a RCPT', ['^RCPT', '354 go ahead\r\n'], ['MAIL FROM:<a@example.com>', 'RCPT TO:<alice@example.org>']],
  ['250 to DATA', ['^DATA', '250 ok\r\n'], ['MAIL FROM:<a@example.com>', 'RCPT TO:<alice@example.org>', 'DATA']],
  ['a malformed reply', ['^NOOP', 'ok fine\r\n'], ['NOOP']],
  ['two codes in one reply', ['^NOOP', '250-ok\r\n550 no\r\n'], ['NOOP']],
);
for my $case (@out_of_step) {
  my ($name, $rules, $cmds, $wait) = @$case;
  subtest "out of step: $name" => sub {
    my ($s, $c, $log) = scripted('220 scripted\r\n', @$rules);
    $c->expect(qr/^220 /, 10, 'greeting');
    my @got;
    for my $i (0 .. $#$cmds) {
      my $r = $c->cmd($cmds->[$i]);
      push @got, $r;
      last if $r =~ /^421 /;
    }
    push @got, ($c->read_reply(10))[1] // '(nothing)' if $wait && $got[-1] !~ /^421/;
    like($got[-1], $OUT_OF_STEP, 'the client is told 421: out of step') or diag explain \@got;
    ok(!grep({ /extra|surprise|PRDR|for alice|accepted|354 go ahead|550 no/ } @got), 'and never the reply out of step') or diag explain \@got;
    ok($c->is_closed(10), 'the session ends');
    is(session_result($s), 'out-of-step', 'logged as out-of-step');
    $s->stop;
  };
}

subtest 'out of step inside a pipelined group' => sub {
  # MAIL, RCPT and RSET may follow one another to the server before their
  # answers (PIPELINING offered); a second answer to a RCPT then shifts
  # every answer after it, and the first that no longer fits (a 250 to
  # DATA) ends the session
  my ($s, $c, $log) = scripted('220 scripted\r\n', '^EHLO', '250-scripted\r\n250 PIPELINING\r\n',
    '^RCPT TO:<alice', '250 ok\r\n250 extra\r\n', '^DATA', '354 go\r\n');
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/PIPELINING/, 'EHLO: PIPELINING');
  $c->send("MAIL FROM:<a\@example.com>\r\nRCPT TO:<alice\@example.org>\r\nRCPT TO:<alice-2\@example.org>\r\nDATA\r\n");
  my @got;
  while (defined(my $r = ($c->read_reply(10))[1])) { push @got, $r; last if $r =~ /^421 / || @got > 5 }
  like($got[-1] // '', $OUT_OF_STEP, 'the client is told 421: out of step') or diag explain \@got;
  ok(!grep({ /^354/ } @got), 'DATA never started') or diag explain \@got;
  is(session_result($s), 'out-of-step', 'logged as out-of-step');
  $s->stop;
};

subtest "the server's own last word is passed on alone" => sub {
  # its 421 to a command, then it leaves
  my ($s, $c) = scripted('220 scripted\r\n', '^MAIL', '421 4.3.2 shutting down\r\n\e');
  $c->expect(qr/^220 /, 10, 'greeting');
  is($c->cmd('MAIL FROM:<a@example.com>'), "421 4.3.2 shutting down\r\n", "the server's 421");
  my ($rest, $eof) = $c->read_all(10);
  is($rest, '', '... and nothing after it: no 421 of rcptchecks');
  ok($eof, '... the connection closes');
  is(session_result($s), 'child-421', 'logged as child-421');
  $s->stop;

  # qmail-smtpd's way: a 451 and exit, with commands pipelined behind
  ($s, $c) = scripted('220 scripted\r\n', '^RCPT', '451 See https://cr.yp.to/docs/smtplf.html.\r\n\e');
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL');
  $c->send("RCPT TO:<alice\@example.org>\r\nRSET\r\nNOOP\r\n");
  like(($c->read_reply(10))[1] // '', qr/^451 See /, "the server's 451");
  ($rest, $eof) = $c->read_all(10);
  is($rest, '', '... and nothing after it: no 421 of rcptchecks');
  ok($eof, '... the connection closes');
  is(session_result($s), 'child-exit', 'logged as child-exit');
  $s->stop;

  # unasked: its idle timeout
  ($s, $c) = scripted('220 scripted\r\n', '^NOOP', '250 ok\r\n\d421 4.4.2 timeout\r\n\e');
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('NOOP'), qr/^250 ok/, 'NOOP');
  is(($c->read_reply(10))[1] // '', "421 4.4.2 timeout\r\n", "its unasked 421, passed on");
  ($rest, $eof) = $c->read_all(10);
  is($rest, '', '... alone');
  ok($eof, '... then the end');
  is(session_result($s), 'child-closed', 'logged as child-closed');
  $s->stop;

  # the server dies after a 250: that was no last word
  ($s, $c) = scripted('220 scripted\r\n', '^NOOP', '250 ok\r\n\e');
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('NOOP'), qr/^250 ok/, 'NOOP');
  like($c->cmd('RSET'), qr/^421 4\.3\.0 mail server unavailable/, 'the next command: 421 from rcptchecks');
  $s->stop;
};

subtest 'line limits below the server\'s command buffer' => sub {
  my ($rc, undef, $err) = run_cmd(argv => [$bin, '-c', $cdb, '-l', '65000', 'true'], env => { RELAYCLIENT => undef });
  is($rc, 100, '-l 65000: usage error (above 12288)') or diag $err;
  ($rc) = run_cmd(argv => [$bin, '-c', $cdb, '-l', '12289', 'true'], env => { RELAYCLIENT => undef });
  is($rc, 100, '-l 12289: usage error');

  # exim takes at most 16384 bytes of a line and the rest as a new
  # command: a line that long never reaches it
  my $mta = exim_child();
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
    argv => [$bin, '-c', $cdb, '-l', '12288', @{ $mta->argv }]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => loopback_ip(), timeout => 10);
  $c->expect(qr/^220 /, 10, 'exim: greeting');
  like($c->cmd('EHLO client.test'), qr/^250[ -]/, 'EHLO');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL');
  my $noop = 'NOOP ' . ('x' x (16384 - 7));
  is(length("$noop\r\n"), 16384, 'a NOOP line of exactly exim\'s buffer');
  like($c->cmd($noop . 'RCPT TO:<nobody@example.org>'), qr/^500 5\.5\.2 line too long\r\n\z/, '... with a RCPT after it: 500 line too long');
  like($c->cmd('NOOP ' . ('y' x 12283)), qr/^250 /, 'a 12288-byte line passes');
  like($c->cmd('RCPT TO:<nobody@example.org>'), qr/^550 5\.1\.1 /, 'the session is in step: an unknown recipient is refused');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c->close;
  unlike($mta->log_text, qr/nobody/, 'exim never saw nobody@example.org');
  $s->stop;

  # a line that fills the input buffer exactly is answered at once
  ($s, $c) = scripted('220 scripted\r\n');
  $c->expect(qr/^220 /, 10, 'greeting');
  my $t0 = time;
  $c->send('NOOP ' . ('z' x (65535 - 5)) . "\n");
  like(($c->read_reply(10))[1] // '', qr/^500 5\.5\.2 line too long/, 'a 65535-byte line and LF: 500 line too long');
  cmp_ok(time - $t0, '<', 8, '... without waiting for the idle timeout');
  like($c->cmd('NOOP'), qr/^250 ok/, '... and the session goes on');
  $s->stop;
};

subtest 'every wait has a bound: -t' => sub {
  # a server that never answers, while the client trickles bytes in: the
  # client's bytes must not keep the session alive
  my $log = "$dir/silent";
  open my $fh, '>', $log or die; close $fh;
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
    argv => [$bin, '-c', $cdb, '-t', '2', $script, $log, '220 scripted\r\n', '^NOOP', '']);
  my $c = smtp_connect($s->ip, $s->port, local_ip => loopback_ip(), timeout => 10);
  $c->expect(qr/^220 /, 10, 'greeting');
  $c->sendline('NOOP');
  my $t0 = time;
  my $got;
  while (time - $t0 < 12) {
    $c->send('x');
    my ($code, $text) = $c->read_reply(0.5);
    if (defined $code) { $got = $text; last }
  }
  like($got // '(nothing in 12 s)', qr/^421 4\.3\.0 mail server not answering/, 'a silent server: 421 after -t, though the client kept sending');
  cmp_ok(time - $t0, '<', 8, '... within a few seconds of -t 2');
  $s->stop;

  # a client that leaves with tarpitted answers still owed: the session
  # ends -t after it left, not when the last answer would have been due
  my $mta = exim_child();
  $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
    argv => [$bin, '-c', $cdb, '-t', '2', '-M', '0', '-u', '60', @{ $mta->argv }]);
  my $ip = loopback_ip();
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 10);
  $c->expect(qr/^220 /, 10, 'exim: greeting');
  $c->send("EHLO x\r\nMAIL FROM:<a\@b.example>\r\n" . join('', map { "RCPT TO:<nobody$_\@example.org>\r\n" } 0 .. 19));
  like(($c->read_reply(10))[1] // '', qr/^250[ -]/, 'EHLO answered');
  like(($c->read_reply(10))[1] // '', qr/^250 /, 'MAIL answered; the RCPTs wait for the tarpit');
  # the first RCPT judged (its answer now owed, delayed by the tarpit)
  wait_until(10, sub { $s->log_text =~ /^rcptchecks: info: pid \d+ ip \Q$ip\E .*rcpt=<nobody0\@example\.org> result=unknown /m },
    'the first RCPT is judged');
  $c->close;   # nothing unread: a plain close, no reset
  ok(wait_until(10, sub { $s->log_text =~ /^rcptchecks: info: pid \d+ ip \Q$ip\E helo=<[^>]*> from=<[^>]*> rcpts=/m }, 'the session line'),
    'the session ends within seconds of the client leaving (20 answers of up to 60 s each were owed)');
  $s->stop;
};

done_testing;

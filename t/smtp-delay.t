#!/usr/bin/perl
# smtp-delay end to end under the real tcpserver, with a real tinydns
# deciding each client's name (clients connect from loopback source
# addresses of our choosing), real rblsmtpd for -r, exim4 -bs and swaks
# for polite sessions and the scripted client for hostile ones: the
# greeting delay of each class (none > dynamic > named), intact polite
# sessions, refused early talkers whose bytes never reach the child
# (default mode and -r), dry run, hang-ups, IPv6, RELAYCLIENT and
# SMTPDELAY, pattern files, -l (its own forward-confirmed lookup, a
# lookup that does not point back, a silent resolver), IP-in-name
# through DNS, usage errors, and a hostile client's bounded refusal.
#
# Delays are small (-n 1.2 -y 0.8 -k 0.3) and measured with tolerance:
# from connect to the first line of the greeting, at least the delay
# minus 50 ms and less than the delay plus 1 s.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $sd = "$top/smtp-delay/smtp-delay";
my %DELAY = (none => 1.2, dynamic => 0.8, named => 0.3);
my @DELAYS = ('-n', $DELAY{none}, '-y', $DELAY{dynamic}, '-k', $DELAY{named});
my $REFUSAL = 'Talking before the greeting is not allowed (RFC 5321 section 4.3.1)';

# ---------------------------------------------------------------------------
# the clients' addresses and names (tinydns decides what tcpserver and
# smtp-delay -l see)

my %ip;
# (a loop, not map: loopback_ip() reads /proc with while (<$fh>), which
# would assign to map's read-only $_)
for my $who (qw(noname dyn named pattern liar ipdash iprev iprevdash ipother other hostile)) {
  $ip{$who} = loopback_ip();
}
sub rev { join '.', reverse split /\./, $_[0] }
sub dashed { join '-', split /\./, $_[0] }
my %name = (
  dyn       => 'dyn-1-2.isp.example',                          # keyword
  named     => 'mail.corp.example',
  pattern   => 'mx7.corp.example',                             # named, but for a pattern file
  liar      => 'liar.corp.example',                            # PTR whose A is another address
  ipdash    => 'h' . dashed($ip{ipdash}) . '.static.example.net',
  iprev     => rev($ip{iprev}) . '.static.example.net',
  iprevdash => dashed(rev($ip{iprevdash})) . '.rdns.example.net',
  ipother   => 'h' . dashed($ip{other}) . '.static.example.net',  # someone else's address
);
my $data = join '', map { "$_\n" } '.in-addr.arpa::', '.ip6.arpa::', '.isp.example::',
  '.corp.example::', '.example.net::',
  (map { "=$name{$_}:$ip{$_}" } qw(dyn named pattern ipdash iprev iprevdash ipother)),
  '^' . rev($ip{liar}) . ".in-addr.arpa:$name{liar}", "+$name{liar}:$ip{other}";
my $dns = start_tinydns(data => $data);

# ---------------------------------------------------------------------------
# helpers

# the end of a test chain: greets with what smtp-delay exported and
# records that it ran, and every byte it reads, in DIR/ran.<client ip>
sub recorder {
  my ($dir) = @_;
  return ['/bin/sh', '-c', 'f="$0/ran.$TCPREMOTEIP"; '
      . 'echo "SMTPDELAY_CLASS=${SMTPDELAY_CLASS-unset} SMTPDELAY_RESULT=${SMTPDELAY_RESULT-unset}" > "$f"; '
      . 'echo "220 recorder ${SMTPDELAY_CLASS-unset} ${SMTPDELAY_RESULT-unset}"; exec cat >> "$f"', $dir];
}

# a tcpserver running smtp-delay; DNSCACHEIP is our tinydns
sub server {
  my (%a) = @_;
  return start_tcpserver(ip => $a{ip}, opts => $a{opts} // ['-R', '-l0'],
    env => { DNSCACHEIP => $dns->ip, %{ $a{env} || {} } }, argv => $a{argv});
}

# connects from $from, waits for the first line of the greeting:
# (line, seconds from connect to it, client)
sub greeting {
  my ($server, $from, $timeout) = @_;
  my $t0 = time;
  my $c = smtp_connect($server->ip, $server->port, timeout => 5,
    (defined $from ? (local_ip => $from) : ()));
  my $line = $c->read_line($timeout // 10);
  return ($line // '(no greeting)', time - $t0, $c);
}

# the client's wall clock bounds the delay from below only closely: a
# loaded machine adds seconds to the connect, tcpserver's lookup and the
# child's start, never takes any off. Which delay applied is checked on
# the log line's delay= next to each call; the upper bound only catches
# a delay gone wild (the long -n 10 cases below are far above it).
sub delay_ok {
  my ($took, $delay, $name) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  ok($took >= $delay - 0.05 && $took < $delay + 5,
    sprintf('%s: greeting after %.3f s (delay %.3f s)', $name, $took, $delay));
}

# smtp-delay's last info line for a client
sub log_line {
  my ($server, $ip) = @_;
  my @l = grep { /^smtp-delay: info: pid \d+ ip \Q$ip\E / } split /\n/, $server->log_text;
  return $l[-1] // '(no log line)';
}

# the exit status tcpserver logged for the session of that log line
sub end_status_ok {
  my ($server, $line, $name) = @_;
  local $Test::Builder::Level = $Test::Builder::Level + 1;
  my ($pid) = $line =~ /^smtp-delay: info: pid (\d+) /;
  return fail("$name: no pid in the log line") unless $pid;
  my $ended = wait_until(5, sub { $server->log_text =~ /^tcpserver: end \Q$pid\E status \d+$/m }, "$name: session $pid ends");
  like($server->log_text, qr/^tcpserver: end \Q$pid\E status 0$/m, "$name: the session ended with status 0") if $ended;
}

# all replies until the connection closes: (list of lines, eof seen)
sub replies_until_close {
  my ($c, $timeout) = @_;
  my ($all, $eof) = $c->read_all($timeout);
  return ([split /(?<=\n)/, $all], $eof);
}

my $PIPELINED = "EHLO x\r\nMAIL FROM:<a\@b>\r\nRCPT TO:<c\@example.org>\r\nDATA\r\n";
my $PIPELINED_LOG = 'EHLO x??MAIL FROM:<a@b>??RCPT TO:<c@example.org>??DATA??';

# ---------------------------------------------------------------------------

subtest 'each class gets its delay (tcpserver looks the name up)' => sub {
  my $dir = tmpdir();
  my $s = server(argv => [$sd, @DELAYS, @{ recorder($dir) }]);
  my %took;
  for my $case ([noname => 'none', 'noname'], [dyn => 'dynamic', 'keyword'],
                [ipdash => 'dynamic', 'ip'], [named => 'named', 'name']) {
    my ($who, $class, $why) = @$case;
    my ($line, $took, $c) = greeting($s, $ip{$who});
    $took{$who} = $took;
    like($line, qr/^220 recorder \Q$class\E pass\r?\n$/, "$who: greeting from the child, SMTPDELAY_CLASS=$class SMTPDELAY_RESULT=pass");
    delay_ok($took, $DELAY{$class}, "$who ($class)");
    $c->close;
    my $host = $name{$who} // '-';
    my $log = log_line($s, $ip{$who});
    like($log, qr/^smtp-delay: info: pid \d+ ip \Q$ip{$who}\E class=\Q$class\E host=\Q$host\E why=\Q$why\E delay=\Q${\ sprintf '%.3f', $DELAY{$class}}\E waited=\d+\.\d{3} result=pass$/,
      "$who: logged class=$class host=$host why=$why result=pass");
    my ($waited) = $log =~ /waited=(\d+\.\d+)/;
    ok(defined $waited && $waited >= $DELAY{$class} - 0.005, "$who: logged waited=" . ($waited // '?') . " is the delay");
  }
  # (no order of the client's times: on a loaded machine the jitter of
  # a connect is larger than the gaps between the classes; the logged
  # delay= above tells them apart, waited= and delay_ok that they apply)
  note sprintf 'none %.3f s, dynamic %.3f s and %.3f s, named %.3f s', @took{qw(noname dyn ipdash named)};
  $s->stop;
};

subtest 'a polite client reaches exim4 -bs intact' => sub {
  my $mta = exim_child();
  my $s = server(argv => [$sd, @DELAYS, @{ $mta->argv }]);
  my $body = "Waited for the greeting.\nA second line.\n..a line that starts with a dot\nThe end.";
  my $t0 = time;
  my ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $ip{named},
    '--from', 'sender@example.net', '--to', 'someone@example.org', '--body', $body]);
  my $took = time - $t0;
  is($rc, 0, 'swaks: the message is accepted') or diag $out;
  like($out, qr/^<-  220 mx\.example\.org/m, "swaks saw exim's greeting");
  ok($took >= $DELAY{named} - 0.05, sprintf('the session took at least the named delay (%.3f s)', $took));
  my @msgs = $mta->wait_messages(1, 10);
  is(scalar @msgs, 1, 'one message delivered');
  my ($got) = $mta->message_bodies;
  # swaks ends the body with CRLFs of its own: compare up to them
  like($got // '', qr/\AWaited for the greeting\.\r\nA second line\.\r\n\.\.a line that starts with a dot\r\nThe end\.(?:\r\n)*\z/,
    'the body arrived intact (the dotted line unstuffed as sent)');
  like(slurp($msgs[0]) // '', qr/^Subject: test /m, 'with its header') if @msgs;
  like(log_line($s, $ip{named}), qr/ class=named host=mail\.corp\.example why=name delay=0\.300 waited=[\d.]+ result=pass$/, 'logged as named, passed');

  # a dynamic client's session through the same chain
  ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $ip{dyn},
    '--from', 'sender@example.net', '--to', 'other@example.org', '--body', 'from a dynamic name']);
  is($rc, 0, 'a dynamic client\'s message is accepted too') or diag $out;
  $mta->wait_messages(2, 10);
  like(join('', $mta->message_bodies), qr/^from a dynamic name\r$/m, '... and delivered');
  like(log_line($s, $ip{dyn}), qr/ class=dynamic .* delay=0\.800 .* result=pass$/, '... after the dynamic delay');
  $s->stop;
};

subtest 'pipelining before the greeting is refused (default mode)' => sub {
  my $dir = tmpdir();
  my $s = server(opts => ['-R', '-l', 'mx.delay.example'], argv => [$sd, @DELAYS, '-t', '3', @{ recorder($dir) }]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{named});
  ok($c->send($PIPELINED), 'the client pipelines EHLO, MAIL, RCPT, DATA before any greeting');
  $c->expect(qr/^220 mx\.delay\.example\r\n$/, 3, 'greeting from smtp-delay (TCPLOCALHOST)');
  $c->expect(qr/^250 mx\.delay\.example\r\n$/, 3, 'EHLO: 250');
  $c->expect(qr/^451 4\.7\.1 \Q$REFUSAL\E\r\n$/, 3, "MAIL: 451 4.7.1");
  $c->expect(qr/^451 4\.7\.1 \Q$REFUSAL\E\r\n$/, 3, "RCPT: 451 4.7.1");
  $c->expect(qr/^451 4\.7\.1 \Q$REFUSAL\E\r\n$/, 3, "DATA: 451 4.7.1");
  $c->sendline('NOOP');
  $c->expect(qr/^250 ok\r\n$/, 3, 'NOOP: 250');
  $c->sendline('QUIT');
  $c->expect(qr/^221 mx\.delay\.example\r\n$/, 3, 'QUIT: 221');
  ok($c->is_closed(3), 'then the connection is closed');
  my $log = log_line($s, $ip{named});
  like($log, qr/ class=named host=mail\.corp\.example why=name delay=0\.300 waited=[\d.]+ result=refused first=\Q$PIPELINED_LOG\E$/,
    'logged result=refused with the first bytes sanitised');
  end_status_ok($s, $log, 'refused client');
  ok(!-e "$dir/ran.$ip{named}", 'the child never ran: none of the bytes reached it');

  # a talker that then goes silent is dropped after -t seconds
  my $t0 = time;
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{dyn});
  $c->sendline('HELO early');
  $c->expect(qr/^220 /, 3, 'silent talker: greeting');
  $c->expect(qr/^250 /, 3, 'silent talker: HELO 250');
  ok($c->is_closed(8), 'silent talker: closed');
  my $took = time - $t0;
  # < 8 for -t 3: room for a loaded machine; no -t never closes
  ok($took > 2.5 && $took < 8, sprintf('... after -t 3 seconds (%.2f s)', $took));
  ok(!-e "$dir/ran.$ip{dyn}", '... and the child never ran');

  # QUIT with more bytes behind it (more than one read): the 221 still
  # arrives, however slowly the client reads
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{pattern});
  $c->send("EHLO x\r\nQUIT\r\n" . ("NOISE\r\n" x 2000));
  sleep 0.3;    # the slow reader this case is about: a fixed pause, no event to wait for
  my ($replies, $eof) = replies_until_close($c, 4);
  is(join('', @$replies), "220 mx.delay.example\r\n250 mx.delay.example\r\n221 mx.delay.example\r\n",
    'QUIT followed by 14 KB: 220, 250, 221, nothing for the rest');
  ok($eof, '... and closed');
  $c->close;
  ok(!-e "$dir/ran.$ip{pattern}", '... and the child never ran');
  $s->stop;

  # the same with exim4 -bs behind: a whole message sent early is never delivered
  my $mta = exim_child();
  my $s2 = server(argv => [$sd, @DELAYS, '-t', '3', @{ $mta->argv }]);
  $c = smtp_connect($s2->ip, $s2->port, local_ip => $ip{noname});
  $c->send("${PIPELINED}Subject: early\r\n\r\nspam\r\n.\r\nQUIT\r\n");
  ($replies, $eof) = replies_until_close($c, 5);
  ok($eof, 'exim behind: the refused session ends');
  like($replies->[0] // '', qr/^220 smtp-delay\.local\r\n$/, 'exim behind: smtp-delay greets (TCPLOCALHOST=0)');
  is(scalar(grep { /^451 4\.7\.1 / } @$replies), 7, 'exim behind: MAIL, RCPT, DATA and the 4 lines of the message get 451');
  like($replies->[-1] // '', qr/^221 /, 'exim behind: QUIT gets 221');
  ok(!grep({ /^(?:354|250 OK id=)/ } @$replies), 'exim behind: no 354, no queue id');
  # the session's end (tcpserver's "end" line): exim, had it run, ran before
  wait_until(5, sub { log_line($s2, $ip{noname}) =~ /result=/ }, 'exim behind: the decision is logged');
  end_status_ok($s2, log_line($s2, $ip{noname}), 'exim behind');
  is(scalar($mta->messages), 0, 'exim behind: nothing delivered');
  is($mta->log_text, '', 'exim behind: exim never ran (no log at all)');
  like(log_line($s2, $ip{noname}), qr/ class=none .* result=refused first=\Q$PIPELINED_LOG\ESubject: early??/, 'exim behind: logged');
  $s2->stop;
};

subtest '-r: the refusal through rblsmtpd' => sub {
  my $dir = tmpdir();
  # RBLSMTPD empty: rblsmtpd passes a polite client (and does no RBL lookup)
  my $s = server(argv => ['/usr/bin/env', 'RBLSMTPD=', $sd, @DELAYS, '-r', '/usr/bin/rblsmtpd', '-t', '5', @{ recorder($dir) }]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{dyn});
  $c->send($PIPELINED);
  $c->expect(qr/^220 rblsmtpd\.local\r\n$/, 3, "rblsmtpd's greeting");
  $c->expect(qr/^250 /, 3, 'EHLO: 250');
  my @r;
  for (1 .. 2) { my (undef, $t) = $c->read_reply(3); push @r, $t }
  my (undef, $t) = $c->read_reply(1);
  push @r, $t if length $t;
  my @refused = grep { /^451 \Q$REFUSAL\E\r\n$/ } @r;
  ok(@refused >= 2, "RCPT and DATA: rblsmtpd's 451 with smtp-delay's text") or diag explain \@r;
  ok(!grep({ /^354/ } @r), 'no 354');
  $c->sendline('QUIT');
  $c->expect(qr/^221 /, 3, 'QUIT: 221');
  ok($c->is_closed(3), 'closed');
  my $log = log_line($s, $ip{dyn});
  like($log, qr/ class=dynamic host=dyn-1-2\.isp\.example why=keyword delay=0\.800 waited=[\d.]+ result=refused via=rblsmtpd first=\Q$PIPELINED_LOG\E$/,
    'smtp-delay logged result=refused via=rblsmtpd');
  like($s->log_text, qr/^rblsmtpd: \Q$ip{dyn}\E pid \d+: 451 \Q$REFUSAL\E$/m, 'rblsmtpd logged the refusal');
  end_status_ok($s, $log, 'refused via rblsmtpd');
  ok(!-e "$dir/ran.$ip{dyn}", 'the final child never ran');

  # a polite client goes through rblsmtpd to the child
  my ($line, $took, $c2) = greeting($s, $ip{named});
  like($line, qr/^220 recorder named pass\r?\n$/, 'polite client: rblsmtpd passes it to the child');
  delay_ok($took, $DELAY{named}, 'polite client in -r mode');
  $c2->sendline('HELO polite');
  ok(wait_until(3, sub { (slurp("$dir/ran.$ip{named}") // '') =~ /HELO polite\r\n/ }, 'the child reads the client'),
    'polite client: its bytes reach the child');
  $c2->close;
  $s->stop;
};

subtest 'dry run (-T): an early talker is logged and passed' => sub {
  my $dir = tmpdir();
  my $s = server(argv => [$sd, @DELAYS, '-T', @{ recorder($dir) }]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{noname});
  $c->send("EHLO early\r\n");
  $c->expect(qr/^220 recorder none early\r?\n$/, 3, 'the child greets: SMTPDELAY_CLASS=none SMTPDELAY_RESULT=early');
  ok(wait_until(3, sub { (slurp("$dir/ran.$ip{noname}") // '') =~ /EHLO early\r\n/ }, 'the child reads the early bytes'),
    'the early bytes reach the child intact');
  like(slurp("$dir/ran.$ip{noname}") // '', qr/^SMTPDELAY_CLASS=none SMTPDELAY_RESULT=early\n/, 'the child saw SMTPDELAY_RESULT=early');
  $c->close;
  like(log_line($s, $ip{noname}), qr/ class=none host=- why=noname delay=1\.200 waited=[\d.]+ result=early dryrun=1 first=EHLO early\?\?$/,
    'logged result=early dryrun=1');
  my ($line, $took, $c2) = greeting($s, $ip{named});
  like($line, qr/^220 recorder named pass\r?\n$/, 'a polite client passes as usual');
  delay_ok($took, $DELAY{named}, 'polite client in dry run');
  $c2->close;
  $s->stop;
};

subtest 'hang-up during the delay' => sub {
  my $dir = tmpdir();
  # delays of 5 s: a hang-up noticed only at the end of the delay logs
  # waited=5, far above the bound of 4 even on a loaded machine (where
  # smtp-delay may start well after the client has gone)
  my $s = server(argv => [$sd, '-n', '5', '-y', '5', '-k', '5', @{ recorder($dir) }]);
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{noname});
  $c->close;
  my $re = qr/^smtp-delay: info: pid \d+ ip \Q$ip{noname}\E class=none host=- why=noname delay=5\.000 waited=([\d.]+) result=hangup$/m;
  ok(wait_until(8, sub { $s->log_text =~ $re }, 'the hang-up is logged'), 'immediate hang-up: logged result=hangup');
  my ($waited) = $s->log_text =~ $re;
  ok(defined $waited && $waited < 4, 'noticed at once, not at the end of the delay (waited=' . ($waited // '?') . ')');
  end_status_ok($s, log_line($s, $ip{noname}), 'hang-up');

  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{dyn});
  sleep 0.4;    # the hang-up 0.4 s into the delay is the case: a fixed pause
  $c->close;
  $re = qr/^smtp-delay: info: pid \d+ ip \Q$ip{dyn}\E class=dynamic .* waited=([\d.]+) result=hangup$/m;
  ok(wait_until(8, sub { $s->log_text =~ $re }, 'the second hang-up is logged'), 'hang-up in the middle of the delay: logged');
  ($waited) = $s->log_text =~ $re;
  # no lower bound: smtp-delay's clock starts when it runs, which on a
  # loaded machine may be after the client's pause
  ok(defined $waited && $waited < 4, 'waited=' . ($waited // '?') . ': until the hang-up, not the 5 s delay');
  # both sessions over (tcpserver's "end" line): a child started anyway
  # would have run before it
  end_status_ok($s, log_line($s, $ip{dyn}), 'hang-up in the middle');
  ok(!-e "$dir/ran.$ip{noname}" && !-e "$dir/ran.$ip{dyn}", 'the child never ran');
  $s->stop;
};

subtest 'IPv6' => sub {
  plan skip_all => 'no ::1 on this machine' unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
  my $mta = exim_child();
  my $s = server(ip => '::1', argv => [$sd, @DELAYS, @{ $mta->argv }]);
  my ($line, $took, $c) = greeting($s, undef);
  like($line, qr/^220 mx\.example\.org /, "exim's greeting over IPv6");
  delay_ok($took, $DELAY{none}, '::1 without PTR (none)');
  $c->sendline('QUIT');
  $c->expect(qr/^221 /, 5, 'QUIT: 221');
  $c->close;
  like(log_line($s, '::1'), qr/ class=none host=- why=noname delay=1\.200 waited=[\d.]+ result=pass$/, 'logged: ip ::1 class=none result=pass');
  # a whole polite session (the scripted client: this swaks needs
  # IO::Socket::INET6 for IPv6, which is not installed)
  ($line, $took, $c) = greeting($s, undef);
  like($line, qr/^220 /, 'second session: greeting');
  delay_ok($took, $DELAY{none}, 'second session');
  $c->sendline('EHLO six.example.net');
  $c->expect(qr/^250[ -]/, 5, 'EHLO: 250');
  $c->sendline('MAIL FROM:<six@example.net>');
  $c->expect(qr/^250 /, 5, 'MAIL: 250');
  $c->sendline('RCPT TO:<someone@example.org>');
  $c->expect(qr/^250 /, 5, 'RCPT: 250');
  $c->sendline('DATA');
  $c->expect(qr/^354 /, 5, 'DATA: 354');
  $c->send("Subject: six\r\n\r\nover IPv6\r\n.\r\n");
  $c->expect(qr/^250 /, 10, 'message accepted');
  $c->sendline('QUIT');
  $c->expect(qr/^221 /, 5, 'QUIT: 221');
  $c->close;
  $mta->wait_messages(1, 10);
  like(join('', $mta->message_bodies), qr/^over IPv6\r$/m, 'delivered intact');
  $s->stop;
};

subtest 'RELAYCLIENT and SMTPDELAY' => sub {
  my $dir = tmpdir();
  # -n 10: a trusted client that waited anyway would take 10 s, far
  # above the bounds here even on a loaded machine
  my $s = server(argv => ['/usr/bin/env', 'RELAYCLIENT=', $sd, '-n', '10', '-y', '10', '-k', '10', @{ recorder($dir) }]);
  my ($line, $took, $c) = greeting($s, $ip{noname}, 12);
  like($line, qr/^220 recorder /, 'RELAYCLIENT set (empty): the child greets');
  ok($took < 4, sprintf('... at once despite -n 10 (%.3f s)', $took));
  $c->close;
  like(log_line($s, $ip{noname}), qr/^smtp-delay: info: pid \d+ ip \Q$ip{noname}\E result=trusted$/, 'logged result=trusted');
  $s->stop;

  $s = server(env => { SMTPDELAY => '0.2' }, argv => [$sd, '-n', '10', '-y', '10', '-k', '10', @{ recorder($dir) }]);
  ($line, $took, $c) = greeting($s, $ip{noname}, 12);
  like($line, qr/^220 recorder none pass/, 'SMTPDELAY=0.2: passed');
  delay_ok($took, 0.2, 'SMTPDELAY=0.2 overrides -n 10');
  $c->close;
  like(log_line($s, $ip{noname}), qr/ class=none .* delay=0\.200 waited=[\d.]+ result=pass$/, 'logged delay=0.200');
  $s->stop;

  $s = server(env => { SMTPDELAY => 'abc' }, argv => [$sd, @DELAYS, @{ recorder($dir) }]);
  ($line, $took, $c) = greeting($s, $ip{dyn});
  like($line, qr/^220 recorder dynamic pass/, 'SMTPDELAY=abc: passed');
  delay_ok($took, $DELAY{dynamic}, 'SMTPDELAY=abc: the class delay applies');
  $c->close;
  like($s->log_text, qr/^smtp-delay: warning: pid \d+ ip \Q$ip{dyn}\E .*invalid SMTPDELAY=abc$/m, 'the invalid SMTPDELAY is logged');
  like(log_line($s, $ip{dyn}), qr/ class=dynamic .* delay=0\.800 waited=[\d.]+ result=pass$/, 'logged delay=0.800');
  $s->stop;
};

subtest 'pattern file' => sub {
  my $dir = tmpdir();
  my $pat = "$dir/patterns";
  open my $fh, '>', $pat or die; print {$fh} "# local policy\n\n^mx[0-9]+\\.corp\\.example\$\n"; close $fh;
  my $s = server(argv => [$sd, @DELAYS, '-f', $pat, @{ recorder($dir) }]);
  my ($line, $took, $c) = greeting($s, $ip{pattern});
  like($line, qr/^220 recorder dynamic pass/, "$name{pattern} matches the file: dynamic");
  delay_ok($took, $DELAY{dynamic}, 'pattern match');
  $c->close;
  like(log_line($s, $ip{pattern}), qr/ class=dynamic host=mx7\.corp\.example why=pattern delay=0\.800 /, 'logged class=dynamic why=pattern');
  ($line, undef, $c) = greeting($s, $ip{dyn});
  like($line, qr/^220 recorder dynamic pass/, 'the built-in keywords still count');
  $c->close;
  like(log_line($s, $ip{dyn}), qr/ class=dynamic host=dyn-1-2\.isp\.example why=keyword /, '... why=keyword');
  ($line, undef, $c) = greeting($s, $ip{named});
  like($line, qr/^220 recorder named pass/, 'another name stays named');
  $c->close;
  $s->stop;

  $s = server(argv => [$sd, @DELAYS, '-B', '-f', $pat, @{ recorder($dir) }]);
  ($line, $took, $c) = greeting($s, $ip{dyn});
  like($line, qr/^220 recorder named pass/, '-B: a keyword name is named');
  delay_ok($took, $DELAY{named}, '-B keyword name');
  $c->close;
  like(log_line($s, $ip{dyn}), qr/ class=named host=dyn-1-2\.isp\.example why=name delay=0\.300 /, '-B: logged class=named why=name');
  ($line, undef, $c) = greeting($s, $ip{pattern});
  like($line, qr/^220 recorder dynamic pass/, '-B: the file still counts');
  $c->close;
  like(log_line($s, $ip{pattern}), qr/ class=dynamic host=mx7\.corp\.example why=pattern /, '-B: why=pattern');
  $s->stop;

  my $bad = "$dir/bad";
  open $fh, '>', $bad or die; print {$fh} "# comment\n^ok\\.example\$\n(unclosed\n^fine\$\n"; close $fh;
  my ($rc, $out, $err) = run_cmd(argv => [$sd, '-f', $bad, '/bin/true'], timeout => 10);
  is($rc, 100, 'bad regular expression: exit 100');
  like($err, qr/\Q$bad\E:3: /, '... naming the file and line 3') or diag $err;
  # the contract: "111 pattern file unreadable" (a temporary failure)
  ($rc, $out, $err) = run_cmd(argv => [$sd, '-f', "$dir/missing", '/bin/true'], timeout => 10);
  is($rc, 111, 'missing pattern file: exit 111');
  like($err, qr/\Q$dir\E\/missing/, '... naming it') or diag $err;
};

subtest '-l: its own forward-confirmed lookup (tcpserver -H)' => sub {
  my $dir = tmpdir();
  my $s = server(opts => ['-R', '-H', '-l0'], argv => [$sd, @DELAYS, '-l', '-L', '2', @{ recorder($dir) }]);
  for my $case ([named => 'named', 'name', $name{named}], [dyn => 'dynamic', 'keyword', $name{dyn}],
                [iprevdash => 'dynamic', 'ip', $name{iprevdash}],
                [liar => 'none', 'noname', '-'], [noname => 'none', 'noname', '-']) {
    my ($who, $class, $why, $host) = @$case;
    my ($line, $took, $c) = greeting($s, $ip{$who});
    like($line, qr/^220 recorder \Q$class\E pass/, "-l $who: $class");
    delay_ok($took, $DELAY{$class}, "-l $who ($class)");
    $c->close;
    like(log_line($s, $ip{$who}), qr/ ip \Q$ip{$who}\E class=\Q$class\E host=\Q$host\E why=\Q$why\E delay=/, "-l $who: logged host=$host why=$why");
  }
  unlike($s->log_text, qr/lookup=failed/, 'no failed lookups');
  like($dns->log_text, qr/ \+ 0001 mail\.corp\.example$/m, 'the A record of the PTR name was asked for (forward confirmation)');
  $s->stop;

  # without -l, tcpserver -H gives no name: class none
  $s = server(opts => ['-R', '-H', '-l0'], argv => [$sd, @DELAYS, @{ recorder($dir) }]);
  my ($line, undef, $c) = greeting($s, $ip{named});
  like($line, qr/^220 recorder none pass/, 'without -l behind tcpserver -H: class none');
  $c->close;
  $s->stop;

  # tcpserver's own lookup: without -p it believes the PTR, with -p it does not
  $s = server(argv => [$sd, @DELAYS, @{ recorder($dir) }]);
  ($line, undef, $c) = greeting($s, $ip{liar});
  like($line, qr/^220 recorder named pass/, 'tcpserver without -p: the unconfirmed PTR name counts');
  $c->close;
  like(log_line($s, $ip{liar}), qr/ class=named host=liar\.corp\.example /, '... host=liar.corp.example');
  $s->stop;
  $s = server(opts => ['-R', '-p', '-l0'], argv => [$sd, @DELAYS, @{ recorder($dir) }]);
  ($line, undef, $c) = greeting($s, $ip{liar});
  like($line, qr/^220 recorder none pass/, 'tcpserver -p: the unconfirmed name is dropped, class none');
  $c->close;
  ($line, undef, $c) = greeting($s, $ip{named});
  like($line, qr/^220 recorder named pass/, 'tcpserver -p: a confirmed name stays');
  $c->close;
  $s->stop;

  # a resolver that never answers: the lookup gives up at -L, class none
  my $silent_ip = loopback_ip();
  my $silent = IO::Socket::IP->new(Proto => 'udp', LocalHost => $silent_ip, LocalPort => 53)
    or die "cannot bind UDP $silent_ip:53: $@";
  for my $case (['1.2', '0.5', 1.2], ['0.2', '0.8', 0.8]) {
    my ($n, $L, $expect) = @$case;
    $s = server(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $silent_ip },
      argv => [$sd, '-n', $n, '-y', $n, '-k', $n, '-l', '-L', $L, @{ recorder($dir) }]);
    my $took;
    ($line, $took, $c) = greeting($s, $ip{named});
    like($line, qr/^220 recorder none pass/, "silent resolver, -n $n -L $L: class none");
    delay_ok($took, $expect, "silent resolver, -n $n -L $L (the lookup counts as waiting)");
    $c->close;
    like($s->log_text, qr/^smtp-delay: warning: pid \d+ ip \Q$ip{named}\E lookup=failed/m, 'lookup=failed logged');
    like(log_line($s, $ip{named}), qr/ class=none host=- why=noname delay=\Q$n\E\d* /, 'logged class=none');
    $s->stop;
  }
  my $queries = 0;
  $silent->blocking(0);
  $queries++ while defined $silent->recv(my $buf, 512);
  ok($queries >= 2, "smtp-delay did ask the silent resolver ($queries queries)");
  close $silent;

  # nothing listens at DNSCACHEIP
  $s = server(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => loopback_ip() },
    argv => [$sd, '-n', '0.3', '-y', '0.3', '-k', '0.3', '-l', '-L', '1', @{ recorder($dir) }]);
  my $took;
  ($line, $took, $c) = greeting($s, $ip{named});
  like($line, qr/^220 recorder none pass/, 'no resolver listening: class none');
  ok($took >= 0.25 && $took < 2, sprintf('... bounded by -L 1 (%.3f s)', $took));
  $c->close;
  like($s->log_text, qr/^smtp-delay: warning: pid \d+ ip \Q$ip{named}\E lookup=failed/m, '... lookup=failed logged');
  $s->stop;
};

subtest 'the client\'s own address in its name, through DNS' => sub {
  my $dir = tmpdir();
  my $s = server(argv => [$sd, @DELAYS, @{ recorder($dir) }]);
  for my $case ([ipdash => 'dynamic', 'ip'], [iprev => 'dynamic', 'ip'], [iprevdash => 'dynamic', 'ip'],
                [ipother => 'named', 'name']) {
    my ($who, $class, $why) = @$case;
    my ($line, $took, $c) = greeting($s, $ip{$who});
    like($line, qr/^220 recorder \Q$class\E pass/, "$name{$who} for $ip{$who}: $class");
    delay_ok($took, $DELAY{$class}, "$who");
    $c->close;
    like(log_line($s, $ip{$who}), qr/ class=\Q$class\E host=\Q$name{$who}\E why=\Q$why\E /, "$who: logged why=$why");
  }
  $s->stop;
};

subtest 'usage errors' => sub {
  for my $case ([[], 'no child'], [['-n', 'abc', '/bin/true'], '-n abc'], [['-n', '301', '/bin/true'], '-n 301'],
                [['-y', '1.2345', '/bin/true'], '-y with four decimals'], [['-t', '0', '/bin/true'], '-t 0'],
                [['-L', '0', '/bin/true'], '-L 0'], [['-x', '/bin/true'], 'unknown option']) {
    my ($args, $what) = @$case;
    my ($rc, undef, $err) = run_cmd(argv => [$sd, @$args], timeout => 10);
    is($rc, 100, "$what: exit 100");
    like($err, qr/usage: smtp-delay/, "$what: usage message") ;
  }
  my ($rc, undef, $err) = run_cmd(argv => [$sd, '/nonexistent/child'], timeout => 10,
    env => { TCPREMOTEIP => '127.0.0.1', RELAYCLIENT => '' });
  is($rc, 111, 'a child that cannot be run: exit 111') or diag $err;
};

subtest 'a hostile early talker gets a bounded refusal' => sub {
  my $dir = tmpdir();
  # -t 10: without the command limit the connection would last 10 s,
  # far above the bound below even on a loaded machine
  my $s = server(argv => [$sd, @DELAYS, '-t', '10', @{ recorder($dir) }]);
  my $t0 = time;
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{hostile});
  my $junk = ('X' x 5000) . join('', map { $_ % 2 ? "NOOP\r\n" : "RCPT TO:<x$_\@example.org>\r\n" } 1 .. 200);
  ok($c->send($junk, 5), 'sent a 5000-byte line without newline, then 200 short lines');
  # a client that is slow to read (it is busy sending): every reply
  # smtp-delay wrote is there for it to read, whenever it reads (the
  # pause is the slowness this case is about, not a wait for an event)
  sleep 0.3;
  my ($replies, $eof) = replies_until_close($c, 12);
  my $took = time - $t0;
  ok($eof, sprintf('the connection is closed (after %.2f s)', $took));
  ok($took < 8, '... by the command limit, well before -t 10');
  like($replies->[0] // '', qr/^220 /, 'greeting first');
  my @body = @$replies[1 .. $#$replies];
  my $n = grep { !/^421 / } @body;
  ok(!grep({ !/^(?:250 ok|451 4\.7\.1 \Q$REFUSAL\E|421 .*)\r\n$/ } @body), 'every reply is a short, well-formed line');
  # (regression: smtp-delay used to exit with the client's bytes unread,
  # so the kernel reset the connection and dropped the replies not yet
  # sent, the 421 among them)
  is($n, 100, 'exactly 100 replies arrive (one per command, the long line cut to one)');
  like($body[-1] // '', qr/^421 /, 'then the 421');
  my $log = log_line($s, $ip{hostile});
  like($log, qr/ result=refused first=X{100}$/, 'logged with the first 100 bytes only');
  end_status_ok($s, $log, 'hostile client');
  ok(!-e "$dir/ran.$ip{hostile}", 'the child never ran');
  $s->stop;

  # an endless line: read and thrown away until -t, then closed. -t 6
  # leaves a loaded machine seconds to send the 4 MiB the loop counts
  # on (by bytes, not by time: the end of -t is the stop if it fails)
  $s = server(argv => [$sd, @DELAYS, '-t', '6', @{ recorder($dir) }]);
  $t0 = time;
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{hostile});
  my ($sent, %rss) = (0);
  my $pid;
  while ($sent < 4 * 1024 * 1024 && time - $t0 < 5.5) {
    $c->send('Y' x 65536, 0.2) or last;
    $sent += 65536;
    # smtp-delay's resident set once it refuses and 256 KiB are in, and at the end
    ($pid) = $s->log_text =~ /^smtp-delay: info: pid (\d+) ip \Q$ip{hostile}\E .* result=refused /m unless $pid;
    next unless $pid && $sent >= 256 * 1024;
    my ($rss) = (slurp("/proc/$pid/status") // '') =~ /^VmRSS:\s+(\d+) kB/m or next;
    $rss{early} //= $rss;
    $rss{late} = $rss;
  }
  ok($sent >= 4 * 1024 * 1024, sprintf('endless line: smtp-delay keeps reading (%d KiB accepted)', $sent / 1024));
  ok(defined $rss{early} && defined $rss{late} && $rss{late} - $rss{early} < 2048,
    sprintf('... in bounded memory (resident %s kB early on, %s kB at the end)', $rss{early} // '?', $rss{late} // '?'));
  ($replies, $eof) = replies_until_close($c, 10);
  $took = time - $t0;
  ok($eof, sprintf('endless line: closed after %.2f s', $took));
  # < 12: room for a loaded machine; without -t the line never ends
  ok($took > 5.8 && $took < 12, '... at the -t 6 bound');
  is(scalar(grep { !/^220 / } @$replies), 0, '... with nothing but the greeting said');
  $log = log_line($s, $ip{hostile});
  like($log, qr/ result=refused first=Y{100}$/, '... logged');
  end_status_ok($s, $log, 'endless line');
  $s->stop;
};

$dns->stop;
done_testing;

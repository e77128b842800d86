#!/usr/bin/perl
# t/lib/MXSenders.pm: real sending MTAs (Postfix, exim) and Python's
# smtplib deliver SMTPUTF8 (RFC 6531) mail to a receiving exim -bs under
# tcpserver: a UTF-8 recipient, a UTF-8 sender, a raw UTF-8 header, each
# arriving byte-identical but for the trace headers, the envelope in
# UTF-8 (never A-labels) in the receiver's log, and the sender's log
# saying status=sent. Then the same to an exim that does not offer
# SMTPUTF8: each sender refuses to send (Postfix bounces with 5.6.7),
# which shows the checks above can fail. Last, the senders' TLS options
# through smtp-tls in front of the same exim.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXSenders;

my $DELIA = "d\xc3\xa9lia\@example.org";    # délia@, UTF-8 bytes
my $JORG  = "j\xc3\xb6rg\@example.net";     # jörg@
my $CAFE  = "caf\xc3\xa9";

# a message with every header Postfix's cleanup would otherwise add
# (Date, Message-ID), a line starting with a dot, and 8-bit text
my $n = 0;
sub message {
  my (%a) = @_;
  my $id = sprintf 'm%d.%d', $$, ++$n;
  my $text = "From: <$a{from}>\nTo: <$a{to}>\nSubject: $a{subject}\nDate: Mon, 7 Dec 2026 01:00:00 +0000\n"
    . "Message-ID: <$id\@client.mxtest.test>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    . "Content-Transfer-Encoding: 8bit\n\nline one\n.a line with a leading dot\n$CAFE $a{subject}\n";
  return ($id, $text);
}

# the receiver's log lines for the message with Message-ID <$id@...>
sub exim_lines {
  my ($mta, $id) = @_;
  my $log = $mta->log_text;
  my ($eid) = $log =~ /^\S+ \S+ (\S+) <= .* id=\Q$id\E\@/m or return ();
  return grep { / \Q$eid\E / } split /\n/, $log;
}

# one message through a sender: it arrives as sent, the envelope in
# UTF-8 in the receiver's log
sub check_arrival {
  my ($mta, $id, $text, $from, $to, $what, $protocol) = @_;
  $protocol //= 'utf8esmtp';
  my $got = delivered($mta, $id);
  ok(defined $got, "$what: arrives") or return;
  is(untraced($got), crlf($text), "$what: headers and body byte-identical but for the Received: lines");
  my @lines = exim_lines($mta, $id);
  like((grep { / <= / } @lines)[0] // '', qr/ <= \Q$from\E .* P=\Q$protocol\E /, "$what: received with $protocol from <$from>");
  ok((grep { / => .*<\Q$to\E> R=local / || / => \Q$to\E R=local / } @lines), "$what: delivered to $to, in UTF-8")
    or diag join "\n", @lines;
  unlike(join("\n", @lines), qr/xn--/, "$what: no A-labels");
}

my $mta = exim_receiver();
my $srv = start_tcpserver(opts => ['-R', '-H', '-l0'], argv => $mta->argv);
my $relay = $srv->ip . '[' . $srv->ip . ']:' . $srv->port;

subtest 'Postfix: UTF-8 recipient, UTF-8 sender, UTF-8 header' => sub {
  my $pf = postfix_sender(host => $srv->ip, port => $srv->port);
  my @cases = (
    ['a UTF-8 recipient', 'a@example.net', $DELIA, 'to delia'],
    ['a UTF-8 sender', $JORG, 'a@example.org', 'from jorg'],
    ['a raw UTF-8 Subject', 'a@example.net', 'b@example.org', "r\xc3\xa9sum\xc3\xa9"],
  );
  my @sent;
  for my $c (@cases) {
    my ($what, $from, $to, $subject) = @$c;
    my ($id, $text) = message(from => $from, to => $to, subject => $subject);
    my ($rc, $out) = $pf->sendmail($from, [$to], $text);
    is($rc, 0, "$what: Postfix's sendmail takes it") or diag $out;
    push @sent, [$what, $id, $text, $from, $to];
  }
  my @status = $pf->wait_delivered(3, 30);
  for my $s (@sent) {
    my ($what, $id, $text, $from, $to) = @$s;
    my ($line) = grep { $_->{to} eq $to } @status;
    like($line->{line} // '', qr/ relay=\Q$relay\E, .* dsn=2\.0\.0, status=sent \(250 OK id=/, "$what: Postfix logs status=sent");
  }
  $mta->wait_messages(3, 10);
  check_arrival($mta, @{$_}[1 .. 4], "Postfix, $_->[0]") for @sent;
  $pf->stop;
};

subtest 'exim: a UTF-8 recipient, with and without CHUNKING' => sub {
  for my $chunking (1, 0) {
    my $ex = exim_sender(host => $srv->ip, port => $srv->port, chunking => $chunking);
    my ($id, $text) = message(from => $JORG, to => $DELIA, subject => "exim chunking=$chunking");
    my ($rc, $out) = $ex->sendmail($JORG, [$DELIA], $text);
    is($rc, 0, "exim takes it (chunking $chunking)") or diag $out;
    my @status = $ex->wait_delivered(1, 20);
    is($status[0]{to}, $DELIA, 'exim logs => to the UTF-8 address');
    like($status[0]{said}, $chunking ? qr/byte chunk.*250 OK id=/ : qr/^250 OK id=/, $chunking ? 'sent with BDAT' : 'sent with DATA');
    is($ex->paniclog, '', "exim's panic log stays empty");
    check_arrival($mta, $id, $text, $JORG, $DELIA, "exim, chunking=$chunking");
  }
};

subtest 'smtplib with SMTPUTF8' => sub {
  my ($id, $text) = message(from => $JORG, to => $DELIA, subject => 'smtplib');
  my ($ok, $err, $transcript) = smtplib_send(host => $srv->ip, port => $srv->port, from => $JORG, to => [$DELIA],
    message => $text, smtputf8 => 1);
  ok($ok, 'smtplib: sent') or diag "$err\n$transcript";
  like($transcript, qr/^send: 'mail FROM:<\Q$JORG\E> .*SMTPUTF8/m, 'MAIL FROM carries SMTPUTF8');
  like($transcript, qr/^reply: b'250 OK id=/m, 'the server took the message');
  MXTest::wait_until(10, sub { delivered($mta, $id) }, 'the message in the maildir');
  check_arrival($mta, $id, $text, $JORG, $DELIA, 'smtplib');
};

# the same senders to an exim without SMTPUTF8: the checks above can fail
subtest 'a receiver without SMTPUTF8: each sender refuses the UTF-8 message' => sub {
  my $plain = exim_receiver(smtputf8 => 0);
  my $srv2 = start_tcpserver(opts => ['-R', '-H', '-l0'], argv => $plain->argv);
  my $pf = postfix_sender(host => $srv2->ip, port => $srv2->port);
  my ($id, $text) = message(from => 'a@example.net', to => $DELIA, subject => 'to delia, no SMTPUTF8');
  my ($id2, $ascii) = message(from => 'a@example.net', to => 'b@example.org', subject => 'plain');
  $ascii =~ s/\Q$CAFE\E/cafe/g;
  is(($pf->sendmail('a@example.net', [$DELIA], $text))[0], 0, 'Postfix takes the UTF-8 message');
  is(($pf->sendmail('a@example.net', ['b@example.org'], $ascii))[0], 0, '... and an ASCII one');
  my @status = $pf->wait_status('bounced', 1, 30);
  my ($bounce) = grep { $_->{status} eq 'bounced' } @status;
  is($bounce->{to}, $DELIA, 'Postfix bounces the UTF-8 recipient');
  is($bounce->{dsn}, '5.6.7', '... with 5.6.7');
  like($bounce->{said}, qr/SMTPUTF8 is required/, '... SMTPUTF8 is required') or diag $bounce->{line};
  $pf->wait_delivered(1, 30);
  $plain->wait_messages(1, 10);
  ok(defined delivered($plain, $id2), 'the ASCII message arrives');
  ok(!defined delivered($plain, $id), 'the UTF-8 message does not');
  $pf->stop;

  my $ex = exim_sender(host => $srv2->ip, port => $srv2->port);
  is(($ex->sendmail($JORG, [$DELIA], $text))[0], 0, 'exim takes the UTF-8 message');
  my ($fail) = grep { $_->{status} eq 'bounced' } $ex->wait_status('bounced', 1, 20);
  like($fail->{said} // '', qr/utf8 support required but not offered/, 'exim does not downconvert it: it bounces');
  is($ex->paniclog, '', "exim's panic log stays empty");

  my ($ok, $err) = smtplib_send(host => $srv2->ip, port => $srv2->port, from => $JORG, to => [$DELIA],
    message => $text, smtputf8 => 1);
  ok(!$ok, 'smtplib does not send it');
  like($err, qr/SMTPNotSupportedError: SMTPUTF8 not supported/, "... SMTPUTF8 not supported by server");
  is(scalar(() = $plain->messages), 1, 'the receiver got only the ASCII message');
};

# nothing listens yet: each MTA defers, then delivers within seconds
# once the server is up (the short retry times of MXSenders)
subtest 'a deferred message is retried within seconds' => sub {
  my $ip = MXTest::loopback_ip();
  my $port = MXTest::free_port($ip);
  my $pf = postfix_sender(host => $ip, port => $port);
  my $ex = exim_sender(host => $ip, port => $port);
  my ($id, $text) = message(from => 'a@example.net', to => $DELIA, subject => 'Postfix, retried');
  my ($id2, $text2) = message(from => 'a@example.net', to => $DELIA, subject => 'exim, retried');
  is(($pf->sendmail('a@example.net', [$DELIA], $text))[0], 0, 'Postfix takes the message');
  is(($ex->sendmail('a@example.net', [$DELIA], $text2))[0], 0, 'exim takes the message');
  my ($d) = grep { $_->{status} eq 'deferred' } $pf->wait_status('deferred', 1, 20);
  like($d->{said} // '', qr/Connection refused/, 'Postfix defers: connection refused');
  ($d) = grep { $_->{status} eq 'deferred' } $ex->wait_status('deferred', 1, 20);
  like($d->{line} // '', qr/defer \(111\): Connection refused/, 'exim defers: connection refused');
  my $late = start_tcpserver(ip => $ip, port => $port, opts => ['-R', '-H', '-l0'], argv => $mta->argv);
  # retried every second or two; the bounds leave room for a loaded
  # machine (a Postfix retry once took over 25 s beside three busy
  # loops) and stay far below the hour a default retry time would take
  $pf->wait_delivered(1, 60);
  $ex->wait_delivered(1, 60);
  MXTest::wait_until(30, sub { delivered($mta, $id) && delivered($mta, $id2) }, 'both in the maildir');
  check_arrival($mta, $id, $text, 'a@example.net', $DELIA, 'Postfix, retried');
  check_arrival($mta, $id2, $text2, 'a@example.net', $DELIA, 'exim, retried');
  $pf->stop;
  $late->stop;
};

# smtp-tls offers the extensions of its allow-list only (common/mx_smtp),
# so the messages here are plain ASCII: what is tested is each sender's
# tls option against a self-signed certificate
SKIP: {
  my $tls = top() . '/smtp-tls/smtp-tls';
  skip "$tls not built", 1 unless -x $tls;
  subtest 'TLS: Postfix encrypt, exim require, smtplib STARTTLS (smtp-tls in front)' => sub {
    my ($cert, $key) = make_cert(tmpdir(), 'mx.example.org');
    my $srv3 = start_tcpserver(opts => ['-R', '-H', '-l0'], argv => [$tls, '-c', $cert, '-k', $key, @{ $mta->argv }]);
    my $ip = $srv3->ip;
    my $ascii = sub {
      my ($id, $text) = message(from => 'a@example.net', to => 'b@example.org', subject => $_[0]);
      return ($id, $text =~ s/\Q$CAFE\E/cafe/gr);
    };

    my $pf = postfix_sender(host => $ip, port => $srv3->port, tls => 'encrypt');
    my ($id, $text) = $ascii->('Postfix over TLS');
    is(($pf->sendmail('a@example.net', ['b@example.org'], $text))[0], 0, 'Postfix takes the message');
    my ($st) = $pf->wait_delivered(1, 30);
    is($st->{dsn}, '2.0.0', 'Postfix, tls encrypt: status=sent');
    like($pf->maillog, qr/TLS connection established to \Q$ip\E\[/, '... over TLS');
    MXTest::wait_until(10, sub { delivered($mta, $id) }, 'the message in the maildir');
    check_arrival($mta, $id, $text, 'a@example.net', 'b@example.org', 'Postfix over TLS', 'local-esmtp');
    $pf->stop;

    my $ex = exim_sender(host => $ip, port => $srv3->port, tls => 'require');
    ($id, $text) = $ascii->('exim over TLS');
    is(($ex->sendmail('a@example.net', ['b@example.org'], $text))[0], 0, 'exim takes the message');
    ($st) = $ex->wait_delivered(1, 20);
    like($st->{line} // '', qr/ X=TLS1\.[23]:/, 'exim, tls require: sent over TLS');
    MXTest::wait_until(10, sub { delivered($mta, $id) }, 'the message in the maildir');
    check_arrival($mta, $id, $text, 'a@example.net', 'b@example.org', 'exim over TLS', 'local-esmtp');

    ($id, $text) = $ascii->('smtplib over TLS');
    my ($ok, $err, $transcript) = smtplib_send(host => $ip, port => $srv3->port, from => 'a@example.net',
      to => ['b@example.org'], message => $text, starttls => 1);
    ok($ok, 'smtplib, STARTTLS: sent') or diag "$err\n$transcript";
    like($transcript, qr/^send: 'STARTTLS\\r\\n'/m, '... after STARTTLS');
    MXTest::wait_until(10, sub { delivered($mta, $id) }, 'the message in the maildir');
    check_arrival($mta, $id, $text, 'a@example.net', 'b@example.org', 'smtplib over TLS', 'local-esmtp');

    my $noted = () = $srv3->log_text =~ /^smtp-tls: info: .* tls=TLSv1\.[23] /mg;
    is($noted, 3, 'smtp-tls saw three TLS sessions');
  };
}

done_testing;

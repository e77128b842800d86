#!/usr/bin/perl
# smtp-tls: STARTTLS for the chain. Through the whole chain (tcpserver,
# smtp-delay, smtp-tls, rcptchecks, exim4 -bs) with the real openssl
# s_client (TLS 1.2 and 1.3 forced) and swaks --tls, the trace field
# with its tls clause; then in front of a scripted server
# (t/bin/smtp-script), which logs every line it gets: RFC 3207's rules,
# the session started over after STARTTLS (no MAIL or AUTH before a new
# EHLO, no STARTTLS after AUTH, -a), STARTTLS with blanks, command
# injection after STARTTLS, a server that speaks out of turn, handshakes
# that fail, stall or hang up, a key that cannot be used, a certificate
# replaced between sessions, SMTPUTF8 passed through, implicit TLS with
# smtp-delay behind it; exim4 with AUTH PLAIN behind smtp-tls.
use strict;
use warnings;
use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 ();
use Time::HiRes ();
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $tls = "$top/smtp-tls/smtp-tls";
my $script = "$top/t/bin/smtp-script";
plan skip_all => "$tls not built" unless -x $tls;
plan skip_all => 'openssl or IO::Socket::SSL missing' unless -x '/usr/bin/openssl' && eval { require IO::Socket::SSL };

my $dir = tmpdir();
my ($cert, $key) = make_cert($dir, 'mx.example.org');
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/recipients.cdb");

my $mta = exim_child();
my $chain = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef, SMTPDELAY => '0.2' },
  argv => ["$top/smtp-delay/smtp-delay", $tls, '-c', $cert, '-k', $key, '-l', 'mx.example.org', "$top/rcptchecks/rcptchecks", '-c', $cdb, @{ $mta->argv }]);

sub tls_lines { grep { /^smtp-tls: / } split /\n/, $_[0]->log_text }

# openssl s_client through the chain, commands pipelined after the handshake
for my $v (['-tls1_2', 'TLSv1.2'], ['-tls1_3', 'TLSv1.3']) {
  my ($flag, $proto) = @$v;
  subtest "openssl s_client -starttls smtp $flag through the chain" => sub {
    my $body = "Subject: $proto\r\n\r\nline one\r\n..a dotted line\r\n" . ('x' x 2000) . "\r\n";
    my $in = join '', map { "$_\r\n" } 'EHLO client.test', 'MAIL FROM:<sender@other.test>', 'RCPT TO:<alice@example.org>',
      'RCPT TO:<nobody@example.org>', 'DATA';
    $in .= $body . ".\r\nQUIT\r\n";
    my $before = () = $mta->messages;
    my ($rc, $out, $err) = run_cmd(argv => ['/usr/bin/openssl', 's_client', '-starttls', 'smtp', $flag, '-connect',
      $chain->ip . ':' . $chain->port, '-servername', 'mx.example.org', '-ign_eof'], stdin => $in, timeout => 30);
    like($out, qr/^250 Accepted\r?$/m, 'alice: accepted inside TLS');
    like($out, qr/^550 5\.1\.1 <nobody\@example\.org>/m, 'nobody: 550 from rcptchecks inside TLS');
    like($out, qr/^250 OK id=/m, 'the message is accepted');
    like($out, qr/^221 /m, 'QUIT');
    like($out, qr/Protocol\s*: \Q$proto\E/, "the session was $proto") or diag $out;
    my @m = $mta->wait_messages($before + 1, 15);
    my ($head, $got) = split /\r\n\r\n/, slurp($m[-1]) // '', 2;
    my ($want) = (split /\r\n\r\n/, $body =~ s/^\.\././mr, 2)[1];
    is($got, $want, '... delivered byte-identical');
    # RFC 5321 4.4 with RFC 8314 4.3's tls clause, the IANA cipher name
    my $iana = $proto eq 'TLSv1.3' ? qr/TLS_AES_\d+_GCM_SHA\d+|TLS_CHACHA20_POLY1305_SHA256/ : qr/TLS_ECDHE_RSA_WITH_\w+/;
    like($head, qr/^Received: from client\.test \(\[127\.\d+\.\d+\.\d+\]\)\r\n\tby mx\.example\.org \(smtp-tls\) with ESMTPS tls $iana;\r\n\t\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d [-+]\d{4}\r?$/m,
      "the trace field: HELO, address, ESMTPS, the tls clause with the IANA name") or diag $head;
    like($head, qr/\(smtp-tls\).*\r\n.*\r\n(?:.*\r\n)*Subject: \Q$proto\E/s, '... above the message\'s own header');
    is(scalar(() = $head =~ /\(smtp-tls\)/g), 1, '... once');
    like($out, qr/Cipher is (\S+)/, 'the cipher') and $proto eq 'TLSv1.2' and unlike($1, qr/^TLS_/, '... OpenSSL names it otherwise');
    wait_until(10, sub { grep { /tls=\Q$proto\E / } tls_lines($chain) }, 'the log line');
    like((grep { /tls=\Q$proto\E / } tls_lines($chain))[-1] // '', qr/^smtp-tls: info: pid \d+ ip \S+ tls=\Q$proto\E cipher=\S+ sni=mx\.example\.org result=quit$/,
      'one log line: protocol, cipher, SNI');
  };
}

subtest 'swaks --tls: a known recipient gets 20 MB byte-identical, an unknown one 550' => sub {
  my $line = join('', map { chr(32 + $_ % 90) } 0 .. 997) . "\r\n";
  my $body = "Subject: big\r\n\r\n" . ($line x 20972);    # 20 MB
  my $before = () = $mta->messages;
  my ($rc, $out) = swaks(server => $chain, data => $body, timeout => 120,
    opts => ['--tls', '--from', 'sender@other.test', '--to', 'alice@example.org', '--timeout', '60']);
  is($rc, 0, 'swaks --tls: accepted') or diag substr($out, 0, 3000);
  like($out, qr/TLS started with cipher/, '... inside TLS');
  my @m = $mta->wait_messages($before + 1, 60);
  my ($got) = (split /\r\n\r\n/, slurp($m[-1]) // '', 2)[1];
  is(length($got // ''), length($line x 20972) + 2, 'the 20 MB body arrived whole (swaks adds a CRLF)');
  is(sha256_hex(substr($got // '', 0, length($line x 20972))), sha256_hex($line x 20972), '... byte-identical');
  ($rc, $out) = swaks(server => $chain, opts => ['--tls', '--from', 'sender@other.test', '--to', 'nobody@example.org']);
  like($out, qr/^<~\* 550 5\.1\.1 <nobody\@example\.org>/m, "swaks --tls to nobody: 550 from rcptchecks, inside TLS");
};

subtest 'in clear: no trace field of smtp-tls' => sub {
  my $before = () = $mta->messages;
  my ($rc, $out) = swaks(server => $chain, opts => ['--from', 'sender@other.test', '--to', 'alice@example.org']);
  is($rc, 0, 'swaks in clear: accepted') or diag $out;
  my @m = $mta->wait_messages($before + 1, 15);
  my ($head) = split /\r\n\r\n/, slurp($m[-1]) // '', 2;
  unlike($head, qr/smtp-tls|tls TLS_/, 'no Received field with a tls clause') or diag $head;
};

# relayed as bytes after MAIL, the session still ends at QUIT at once:
# exim waits for the end of its input before it closes, rcptchecks for
# its client's close (1 s) before it ends exim's input
subtest 'in clear through the chain, relayed after MAIL: the connection closes right after QUIT' => sub {
  # three sessions, the quickest counted: a loaded machine may stall any
  # one of them, but a linger waited out costs every one at least 1 s
  my @took;
  for my $n (1 .. 3) {
    my $c = client($chain);
    $c->expect(qr/^220 /, 10, "$n: greeting");
    like($c->cmd('EHLO client.test'), qr/^250[- ]/, "$n: EHLO");
    like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, "$n: MAIL: the relay point");
    like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, "$n: RCPT");
    like($c->cmd('QUIT'), qr/^221 /, "$n: QUIT: 221");
    my $t0 = Time::HiRes::time();
    ok($c->is_closed(5), "$n: the connection closes");
    push @took, Time::HiRes::time() - $t0;
  }
  my ($min) = sort { $a <=> $b } @took;
  cmp_ok($min, '<', 0.9, sprintf 'within 0.9 s of the 221, no linger (1 s) waited out (%s s)', join ' ', map { sprintf '%.3f', $_ } @took);
};

subtest 'exim with AUTH PLAIN behind smtp-tls: no AUTH made in clear is carried into TLS' => sub {
  my $amta = exim_child(auth => 1);
  my $plain = MIME::Base64::encode_base64("\0" . $amta->auth_user . "\0" . $amta->auth_password, '');
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef },
    argv => [$tls, '-c', $cert, '-k', $key, '-l', 'mx.example.org', @{ $amta->argv }]);
  # AUTH in clear, then STARTTLS: refused (the clear credentials would
  # be the session's inside TLS)
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250-AUTH PLAIN\r$/m, 'EHLO in clear: AUTH offered (no -a)');
  like($c->cmd("AUTH PLAIN $plain"), qr/^235 /, 'AUTH in clear: 235 from exim');
  like($c->cmd('STARTTLS'), qr/^503 5\.5\.1 STARTTLS not allowed after AUTH/, 'STARTTLS after a successful AUTH: 503');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  # STARTTLS, then MAIL and AUTH before EHLO: 503 from smtp-tls; after
  # EHLO a real AUTH works, and the message says ESMTPSA
  $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO fixation.test'), qr/^250-/, 'EHLO in clear');
  like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 /, 'STARTTLS');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^503 5\.5\.1 Send EHLO again/, 'MAIL before EHLO inside TLS: 503');
  like($c->cmd("AUTH PLAIN $plain"), qr/^503 5\.5\.1 /, 'AUTH before EHLO inside TLS: 503');
  like($c->cmd('EHLO client.test'), qr/^250-AUTH PLAIN\r$/m, 'EHLO inside TLS: AUTH offered');
  like($c->cmd("AUTH PLAIN $plain"), qr/^235 /, 'AUTH inside TLS after EHLO: 235');
  my $before = () = $amta->messages;
  like($c->cmd('MAIL FROM:<sender@other.test>'), qr/^250 /, 'MAIL');
  like($c->cmd('RCPT TO:<alice@example.org>'), qr/^250 /, 'RCPT');
  like($c->cmd('DATA'), qr/^354 /, 'DATA');
  like($c->cmd("Subject: auth\r\n\r\nbody\r\n."), qr/^250 /, 'the message');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my @m = $amta->wait_messages($before + 1, 15);
  my ($head) = split /\r\n\r\n/, slurp($m[-1]) // '', 2;
  like($head, qr/^Received: from client\.test \(\[127[\d.]+\]\)\r\n\tby mx\.example\.org \(smtp-tls\) with ESMTPSA tls TLS_\w+;/m,
    'the trace field: ESMTPSA after AUTH, the name of the EHLO inside TLS') or diag $head;
  unlike($head, qr/fixation\.test.*smtp-tls/s, '... not the clear one');
  $s->stop;
};

subtest 'an early talker is refused before any TLS' => sub {
  my $ip = loopback_ip();
  my $c = smtp_connect($chain->ip, $chain->port, local_ip => $ip, timeout => 10);
  $c->send("EHLO early.test\r\nSTARTTLS\r\n");
  my ($all) = $c->read_all(10);
  unlike($all, qr/^220 2\.0\.0/m, 'no TLS offered or started');
  like($all, qr/^4\d\d /m, 'smtp-delay refuses it');
  ok(!grep({ /ip \Q$ip\E / } tls_lines($chain)), 'smtp-tls never ran for it');
};
$chain->stop;

# smtp-tls in front of the scripted server
my $n = 0;
sub scripted {
  my (%a) = @_;
  my $log = "$dir/server-" . ++$n;
  open my $fh, '>', $log or die; close $fh;
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'],
    argv => [$tls, '-c', $a{cert} // $cert, '-k', $a{key} // $key, @{ $a{opts} || [] }, $script, $log, '220 scripted\r\n',
      @{ $a{rules} || [] },
      '^EHLO', $a{ehlo} // '250-scripted\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE 1000\r\n', '^HELO', '250 scripted\r\n',
      '^DATA', '354 go\r\n', '^QUIT', '221 bye\r\n\e']);
  return ($s, $log);
}
sub client { smtp_connect($_[0]->ip, $_[0]->port, local_ip => loopback_ip(), timeout => 10) }

subtest "RFC 3207: what is offered, when STARTTLS is taken" => sub {
  my ($s, $log) = scripted();
  my $c = client($s);
  $c->expect(qr/^220 scripted/, 10, 'greeting');
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-STARTTLS\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
    "EHLO: STARTTLS offered, once (the server's own line removed)");
  is($c->cmd('HELO client.test'), "250 scripted\r\n", 'HELO: no STARTTLS');
  like($c->cmd('STARTTLS now'), qr/^501 5\.5\.4 /, 'STARTTLS with an argument: 501');
  like($c->cmd('RSET'), qr/^250 /, 'RSET');
  like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 Ready to start TLS\r\n\z/, 'STARTTLS: 220 2.0.0');
  ok($c->starttls(SSL_hostname => 'mx.example.org'), 'the handshake') or diag $c->tls_error;
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", 'EHLO inside TLS: no STARTTLS');
  like($c->cmd('STARTTLS'), qr/^503 5\.5\.1 /, 'a second STARTTLS: 503');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my $seen = slurp($log);
  unlike($seen, qr/STARTTLS/, 'the server never saw STARTTLS');
  is(scalar(() = $seen =~ /^EHLO/mg), 2, '... it saw both EHLOs');
  $s->stop;
};

subtest 'STARTTLS starts the session over: nothing before a new EHLO' => sub {
  my ($s, $log) = scripted();
  my $c = client($s);
  $c->expect(qr/^220 scripted/, 10, 'greeting');
  like($c->cmd('EHLO clear.test'), qr/STARTTLS/, 'EHLO in clear');
  like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 /, 'STARTTLS');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  for my $l ('MAIL FROM:<a@example.com>', 'RCPT TO:<b@example.org>', 'DATA', 'AUTH PLAIN AGEAYg==', 'BDAT 5 LAST') {
    like($c->cmd($l), qr/^503 5\.5\.1 Send EHLO again after STARTTLS/, "$l before EHLO inside TLS: 503");
  }
  # pipelined behind a command that goes through: still refused, in turn
  $c->send("RSET\r\nMAIL FROM:<a\@example.com>\r\n");
  like(($c->read_reply(10))[1] // '', qr/^250 /, 'RSET: the server\'s answer');
  like(($c->read_reply(10))[1] // '', qr/^503 5\.5\.1 /, 'MAIL after it: 503');
  like($c->cmd('NOOP'), qr/^250 ok/, 'NOOP goes through');
  like($c->cmd('HELO tls.test'), qr/^250 scripted/, 'HELO inside TLS');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL after it: the server\'s');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my $seen = slurp($log);
  is(join(',', map { (split / /)[0] } split /\n/, $seen), 'EHLO,RSET,NOOP,HELO,MAIL,QUIT',
    'the server saw neither MAIL, RCPT, DATA, AUTH nor BDAT before the HELO') or diag $seen;
  $s->stop;
};

subtest 'STARTTLS with blanks after it is STARTTLS; anything else like it is 501; neither reaches the server' => sub {
  my ($s, $log) = scripted();
  my $c = client($s);
  $c->expect(qr/^220 scripted/, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/STARTTLS/, 'EHLO');
  for my $l ("STARTTLS x", "STARTTLS\tx", "STARTTLSX", " STARTTLS", "starttls \t now") {
    (my $shown = $l) =~ s/\t/\\t/g;
    like($c->cmd($l), qr/^501 5\.5\.4 /, "\"$shown\": 501");
  }
  like($c->cmd("STARTTLS\t"), qr/^220 2\.0\.0 /, '"STARTTLS\\t": 220');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  like($c->cmd('EHLO client.test'), qr/^250-scripted/, 'EHLO inside TLS');
  like($c->cmd("STARTTLS \t "), qr/^503 5\.5\.1 TLS already active/, '"STARTTLS \\t " inside TLS: 503');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  unlike(slurp($log), qr/starttls/i, 'the server never saw a STARTTLS-like line');
  # a blank tail in a second connection, without TAB: spaces only
  $c = client($s);
  $c->expect(qr/^220 scripted/, 10, 'greeting');
  like($c->cmd("STARTTLS   "), qr/^220 2\.0\.0 /, '"STARTTLS   ": 220');
  ok($c->starttls, 'the handshake');
  $s->stop;
};

subtest 'AUTH in clear: STARTTLS after a successful AUTH is 503; -a offers and takes AUTH in TLS only' => sub {
  my $ehlo = '250-scripted\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250 PIPELINING\r\n';
  my ($s, $log) = scripted(ehlo => $ehlo, rules => ['^AUTH PLAIN Z29vZA', '235 2.7.0 ok\r\n', '^AUTH', '535 5.7.8 no\r\n']);
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250-AUTH PLAIN LOGIN\r$/m, 'without -a: AUTH offered in clear');
  like($c->cmd('AUTH PLAIN YmFk'), qr/^535 /, 'a failed AUTH in clear');
  like($c->cmd('AUTH PLAIN Z29vZA=='), qr/^235 /, 'a successful one');
  like($c->cmd('STARTTLS'), qr/^503 5\.5\.1 STARTTLS not allowed after AUTH/, 'STARTTLS after it: 503');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250-scripted/, 'EHLO');
  like($c->cmd('AUTH PLAIN YmFk'), qr/^535 /, 'a failed AUTH in clear');
  like($c->cmd('STARTTLS'), qr/^220 /, 'STARTTLS after a failed one: 220');
  ok($c->starttls, 'the handshake');
  $s->stop;

  ($s, $log) = scripted(opts => ['-a'], ehlo => $ehlo, rules => ['^AUTH', '235 2.7.0 ok\r\n']);
  $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-STARTTLS\r\n250 PIPELINING\r\n", '-a, EHLO in clear: no AUTH line');
  like($c->cmd('AUTH PLAIN Z29vZA=='), qr/^538 5\.7\.11 Encryption required for requested authentication mechanism\r\n\z/, 'AUTH in clear: 538 5.7.11');
  like($c->cmd('STARTTLS'), qr/^220 /, 'STARTTLS');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-AUTH PLAIN LOGIN\r\n250-AUTH=PLAIN LOGIN\r\n250 PIPELINING\r\n", 'EHLO inside TLS: AUTH offered');
  like($c->cmd('AUTH PLAIN Z29vZA=='), qr/^235 /, 'AUTH inside TLS: the server\'s 235');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  is(scalar(() = slurp($log) =~ /^AUTH/mg), 1, 'the server saw the AUTH in TLS only');
  $s->stop;
};

subtest 'a server that speaks out of turn: none of it crosses into TLS' => sub {
  # RSET answered twice in one write: the extra reply is out of step, in clear
  my ($s, $log) = scripted(rules => ['^RSET', '250 ok\r\n250 extra-reply\r\n']);
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/STARTTLS/, 'EHLO');
  $c->send("RSET\r\nSTARTTLS\r\n");
  my ($all) = $c->read_all(10);
  like($all, qr/^250 ok\r\n421 4\.3\.0 mail server out of step/, 'the RSET answer, then 421 in clear') or diag $all;
  unlike($all, qr/^220 2\.0\.0|extra-reply/m, 'no TLS, the extra reply never passed');
  $s->stop;
  # the extra reply and stray bytes come while TLS starts: the session
  # ends inside TLS with smtp-tls's 421, not a byte of them in TLS
  # (a 4xx would otherwise pass as the server's last word)
  for my $extra ('250 extra-reply\r\n', '421 4.3.2 extra-reply, going down\r\n', 'stray bytes') {
    my ($s, $log) = scripted(rules => ['^RSET', "250 ok\\r\\n\\d$extra"]);
    my $c = client($s);
    $c->expect(qr/^220 /, 10, 'greeting');
    like($c->cmd('RSET'), qr/^250 ok/, 'RSET: the answer');
    like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 /, 'STARTTLS: 220 (the extra comes 0.3 s after the answer)');
    select undef, undef, undef, 1;    # the extra arrives before the handshake starts
    ok($c->starttls, 'the handshake') or diag $c->tls_error;
    my ($all) = $c->read_all(10);
    like($all, qr/\A421 4\.3\.0 mail server out of step, closing connection\r\n\z/, "'$extra' while TLS started: only smtp-tls's 421 inside TLS") or diag $all;
    ok(wait_until(10, sub { $s->log_text =~ /smtp-tls: info: .* tls=TLSv1\.3 .*result=out-of-step$/m }, 'the log line'), '... logged out-of-step');
    $s->stop;
  }
};

subtest 'SMTPUTF8: offered when the server offers it, UTF-8 passed unchanged' => sub {
  my ($s, $log) = scripted(ehlo => '250-scripted\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n');
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/^250-SMTPUTF8\r$/m, 'SMTPUTF8 offered');
  my $mail = "MAIL FROM:<j\xc3\xb6rg\@b\xc3\xbccher.example> SMTPUTF8 BODY=8BITMIME";
  my $rcpt = "RCPT TO:<\xe7\x94\xb0\xe4\xb8\xad\@example.org>";
  like($c->cmd($mail), qr/^250 /, 'MAIL with SMTPUTF8 and a UTF-8 address');
  like($c->cmd($rcpt), qr/^250 /, 'RCPT with a UTF-8 address');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my $seen = slurp($log);
  ok(index($seen, "$mail\n$rcpt\n") >= 0, 'the server got both lines byte for byte') or diag $seen;
  $s->stop;
};

subtest 'TLS 1.2 and 1.3 only' => sub {
  my ($s) = scripted();
  # the client is told to offer TLS 1.1 alone, at OpenSSL's lowest
  # security level, so that the refusal is the server's
  my ($rc, $out) = run_cmd(argv => ['/usr/bin/openssl', 's_client', '-starttls', 'smtp', '-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0',
    '-connect', $s->ip . ':' . $s->port], stdin => "QUIT\r\n", timeout => 20);
  like($out, qr/Cipher is \(NONE\)/, 'TLS 1.1: no cipher agreed, no session') or diag $out;
  ok(wait_until(10, sub { $s->log_text =~ /tls=failed result=handshake-failed error=.*(?:protocol|version)/i }, 'the log line'),
    '... the handshake failed on the version, logged') or diag $s->log_text;
  $s->stop;
};

subtest 'only what smtp-tls can follow is offered; BDAT answered here' => sub {
  my ($s, $log) = scripted(ehlo => '250-scripted\r\n250-CHUNKING\r\n250-PRDR\r\n250-XCLIENT ADDR\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n250 8BITMIME\r\n');
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-STARTTLS\r\n250-SMTPUTF8\r\n250 8BITMIME\r\n", 'EHLO: CHUNKING, PRDR, XCLIENT removed, SMTPUTF8 kept');
  like($c->cmd('BDAT 5 LAST'), qr/^502 5\.5\.1 BDAT /, 'BDAT: 502 from smtp-tls');
  like($c->cmd('NOOP'), qr/^250 ok/, 'the session goes on');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  unlike(slurp($log), qr/BDAT/, 'the server never saw BDAT');
  $s->stop;
};

# without -a, MAIL in clear hands the session to the byte relay (below);
# with -a, smtp-tls follows a session in clear to its end
subtest '-a: a pipelined group: answers in order, STARTTLS after the rest; STARTTLS in a transaction 503' => sub {
  my ($s, $log) = scripted(opts => ['-a']);
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/PIPELINING/, 'EHLO: PIPELINING');
  $c->send("MAIL FROM:<a\@example.com>\r\nRCPT TO:<b\@example.org>\r\nRSET\r\nSTARTTLS\r\n");
  my @got = map { ($c->read_reply(10))[1] // '(nothing)' } 1 .. 4;
  like($got[0], qr/^250 /, 'MAIL: the server\'s 250');
  like($got[1], qr/^250 /, 'RCPT: the server\'s 250');
  like($got[2], qr/^250 /, 'RSET: the server\'s 250');
  like($got[3], qr/^220 2\.0\.0 /, 'STARTTLS: 220, after the three (the transaction was reset)');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  like($c->cmd('EHLO client.test'), qr/^250-/, 'EHLO inside TLS');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL inside TLS');
  like($c->cmd('STARTTLS'), qr/^503 5\.5\.1 TLS already active/, 'STARTTLS inside TLS: 503');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT inside TLS');
  like(slurp($log), qr/^MAIL .*\nRCPT .*\nRSET\n/m, 'the server got the group');
  $s->stop;
  ($s, $log) = scripted(opts => ['-a']);
  $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/STARTTLS/, 'EHLO');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL in clear');
  like($c->cmd('STARTTLS'), qr/^503 5\.5\.1 STARTTLS not allowed in a mail transaction/, 'STARTTLS in the transaction: 503');
  like($c->cmd('AUTH PLAIN Z29vZA=='), qr/^538 5\.7\.11 /, 'AUTH in clear after MAIL: still 538');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  unlike(slurp($log), qr/STARTTLS|AUTH/, 'the server saw neither');
  $s->stop;
};

# the pid of the smtp-tls a scripted server's tcpserver started last
sub tls_pid {
  my ($s) = @_;
  my @pids = $s->log_text =~ /^tcpserver: pid (\d+) from /mg;
  return $pids[-1];
}
sub openssl_mapped { my $maps = slurp("/proc/$_[0]/maps") // ''; return $maps =~ m{/libssl\.so|/libcrypto\.so} ? 1 : 0 }

subtest 'several transactions in one session, in clear (relayed after the first MAIL) and inside TLS' => sub {
  for my $tls (0, 1) {
    my $kind = $tls ? 'TLS' : 'clear';
    my ($s, $log) = scripted();
    my $c = client($s);
    $c->expect(qr/^220 /, 10, "$kind: greeting");
    like($c->cmd('EHLO client.test'), qr/STARTTLS/, "$kind: EHLO");
    if ($tls) {
      like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 /, "$kind: STARTTLS");
      ok($c->starttls, "$kind: the handshake") or diag $c->tls_error;
      like($c->cmd('EHLO client.test'), qr/^250-scripted/, "$kind: EHLO inside TLS");
    }
    for my $i (1 .. 3) {
      # no RSET between them: the end of the data ends the transaction
      like($c->cmd("MAIL FROM:<s$i\@example.com>"), qr/^250 /, "$kind: MAIL $i");
      like($c->cmd("RCPT TO:<r$i\@example.org>"), qr/^250 /, "$kind: RCPT $i");
      like($c->cmd('DATA'), qr/^354 /, "$kind: DATA $i");
      like($c->cmd("Subject: $i\r\n\r\nbody $i\r\n."), qr/^250 /, "$kind: message $i");
    }
    like($c->cmd('QUIT'), qr/^221 /, "$kind: QUIT");
    my $seen = slurp($log);
    is(scalar(() = $seen =~ /^data: Subject: \d/mg), 3, "$kind: the server got three messages") or diag $seen;
    is(scalar(() = $seen =~ /^data: Received: from client\.test .*$/mg), $tls ? 3 : 0, "$kind: " . ($tls ? 'a trace field at the head of each' : 'no trace field'))
      or diag $seen;
    ok(wait_until(10, sub { $s->log_text =~ /^smtp-tls: info: pid \d+ ip \S+ tls=\S+ .*result=quit$/m }, 'the session line'), "$kind: logged, result=quit")
      or diag $s->log_text;
    $s->stop;
  }
};

subtest 'OpenSSL is loaded at the first STARTTLS only: a session in clear never maps it' => sub {
  my ($s, $log) = scripted();
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/STARTTLS/, 'EHLO: STARTTLS offered');
  my $pid = tls_pid($s);
  ok($pid && -e "/proc/$pid/maps", 'smtp-tls runs') or diag $s->log_text;
  like(readlink("/proc/$pid/exe") // '', qr{/smtp-tls$}, '... the pid is smtp-tls');
  is(openssl_mapped($pid), 0, 'in clear, after EHLO: libssl and libcrypto not mapped');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL in clear');
  is(openssl_mapped($pid), 0, '... nor after MAIL (the relay)');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $s->stop;
  ($s, $log) = scripted();
  $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/STARTTLS/, 'EHLO');
  $pid = tls_pid($s);
  like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 /, 'STARTTLS');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  is(openssl_mapped($pid), 1, 'after STARTTLS: mapped (the check sees it)');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  $s->stop;
};

# what smtp-tls.8 says of a session in clear after the client's first
# MAIL: bytes only, the server's answers as they come
subtest 'after MAIL in clear: bytes relayed both ways, as they come' => sub {
  my ($s, $log) = scripted(ehlo => '250-scripted\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-XCLIENT ADDR\r\n250 SIZE 1000\r\n',
    rules => ['^STARTTLS', '502 5.5.1 not here\r\n', '^BDAT', '502 5.5.1 BDAT not here\r\n']);
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-STARTTLS\r\n250-PIPELINING\r\n250 SIZE 1000\r\n",
    'EHLO before MAIL: what smtp-tls can follow, and its STARTTLS');
  like($c->cmd('BDAT 5 LAST'), qr/^502 5\.5\.1 BDAT not available here/, 'BDAT before MAIL: smtp-tls\'s 502');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, 'MAIL: the relay point');
  like($c->cmd('STARTTLS'), qr/^502 5\.5\.1 not here/, 'STARTTLS: the server\'s answer (no TLS after mail in clear)');
  is($c->cmd('EHLO client.test'), "250-scripted\r\n250-PIPELINING\r\n250-CHUNKING\r\n250-XCLIENT ADDR\r\n250 SIZE 1000\r\n",
    'a second EHLO: the server\'s answer unchanged (no STARTTLS added, nothing removed)');
  like($c->cmd('BDAT 5 LAST'), qr/^502 5\.5\.1 BDAT not here/, 'BDAT: the server\'s answer');
  my $blob = "RSET\r\nNOOP x\tY\r\nSTARTTLS\r\n\x{7f}odd\r\n";
  $c->send($blob);
  my @got = map { ($c->read_reply(10))[1] // '(nothing)' } 1 .. 4;
  is(join('', @got), "250 ok\r\n250 ok\r\n502 5.5.1 not here\r\n250 ok\r\n", 'four pipelined lines: four answers in order');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my $seen = slurp($log);
  ok(index($seen, "MAIL FROM:<a\@example.com>\nSTARTTLS\nEHLO client.test\nBDAT 5 LAST\nRSET\nNOOP x\tY\nSTARTTLS\n\x{7f}odd\nQUIT\n") >= 0,
    'the server got every line after MAIL, byte for byte') or diag $seen;
  unlike($seen =~ s/MAIL FROM.*//sr, qr/STARTTLS|BDAT/, '... and neither STARTTLS nor BDAT before it');
  ok(wait_until(10, sub { $s->log_text =~ /^smtp-tls: info: pid \d+ ip \S+ tls=none result=quit$/m }, 'the session line'), 'logged: tls=none result=quit')
    or diag $s->log_text;
  $s->stop;
};

subtest 'command injection: what was sent after STARTTLS in clear is dropped' => sub {
  my ($s, $log) = scripted();
  my $c = client($s);
  $c->expect(qr/^220 /, 10, 'greeting');
  like($c->cmd('EHLO client.test'), qr/STARTTLS/, 'EHLO');
  $c->send("STARTTLS\r\nRSET\r\nMAIL FROM:<x\@y>\r\n");
  like(($c->read_reply(10))[1] // '', qr/^220 2\.0\.0 /, 'STARTTLS with two commands behind it in the same write: 220');
  ok($c->starttls, 'the handshake') or diag $c->tls_error;
  like($c->cmd('EHLO client.test'), qr/^250-scripted/, 'EHLO inside TLS');
  like($c->cmd('NOOP'), qr/^250 ok/, 'NOOP: answered as the next command, nothing pending');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  my $seen = slurp($log);
  unlike($seen, qr/^(?:RSET|MAIL)/m, 'the server never saw RSET or MAIL') or diag $seen;
  wait_until(10, sub { $s->log_text =~ /smtp-tls: info: .* injected=/ }, 'the log line');
  like($s->log_text, qr/^smtp-tls: info: .* tls=TLSv1\.3 .* injected=23 result=quit$/m, 'logged: the 23 bytes after STARTTLS, dropped');
  $s->stop;
};

subtest 'handshakes that fail, stall or hang up: bounded and logged' => sub {
  my ($s) = scripted(opts => ['-h', '1']);
  my @cases = (
    ['garbage instead of a ClientHello', "GET / HTTP/1.0\r\n\r\n", 0, qr/tls=failed result=handshake-failed error=/],
    ['a stall mid-handshake', "\x16\x03\x01\x00\xc8\x01\x00\x00", 0, qr/tls=failed result=handshake-timeout error=handshake timed out/],
    ['a hang-up mid-handshake', "\x16\x03\x01\x00\xc8\x01\x00\x00", 1, qr/tls=failed result=handshake-failed error=/],
  );
  for my $case (@cases) {
    my ($name, $bytes, $hangup, $re) = @$case;
    my $ip = loopback_ip();
    my $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 10);
    $c->expect(qr/^220 /, 10, "$name: greeting");
    like($c->cmd('STARTTLS'), qr/^220 2\.0\.0 /, "$name: STARTTLS");
    $c->send($bytes);
    if ($hangup) { $c->close } else { ok($c->is_closed(8), "$name: the connection is closed") }
    ok(wait_until(8, sub { $s->log_text =~ /^smtp-tls: warning: pid \d+ ip \Q$ip\E $re/m }, "$name: logged"), "$name: logged, within bounds")
      or diag $s->log_text;
  }
  $s->stop;
};

# OpenSSL is loaded at the first STARTTLS: a key that is missing is
# seen at once, one that does not match its certificate only then
subtest 'a key that cannot be used: no STARTTLS (a missing key) or 454 (one that does not match), mail still taken in clear' => sub {
  my ($other_cert, $other_key) = make_cert($dir, 'other.example.org');
  for my $case (['a missing key', "$dir/none.key"], ['a key of another certificate', $other_key]) {
    my ($name, $k) = @$case;
    my ($s, $log) = scripted(key => $k);
    my $c = client($s);
    $c->expect(qr/^220 /, 10, "$name: greeting");
    my $ehlo = $c->cmd('EHLO client.test');
    if ($k eq $other_key) {
      like($ehlo, qr/STARTTLS/, "$name: STARTTLS offered (the files can be read)");
      like($c->cmd('STARTTLS'), qr/^454 4\.7\.0 TLS not available due to temporary reason\r\n\z/, "$name: STARTTLS 454 (RFC 3207)");
      unlike($c->cmd('EHLO client.test'), qr/STARTTLS/, "$name: then no longer offered");
    }
    else { unlike($ehlo, qr/STARTTLS/, "$name: STARTTLS not offered") }
    like($c->cmd('STARTTLS'), qr/^502 /, "$name: STARTTLS 502");
    like($c->cmd('MAIL FROM:<a@example.com>'), qr/^250 /, "$name: MAIL in clear");
    like($c->cmd('QUIT'), qr/^221 /, "$name: QUIT");
    wait_until(10, sub { $s->log_text =~ /tls=none/ }, 'the session line');
    like($s->log_text, qr/^smtp-tls: warning: pid \d+ ip \S+ tls=unavailable error=/m, "$name: a warning");
    like($s->log_text, qr/^smtp-tls: info: pid \d+ ip \S+ tls=none result=quit$/m, "$name: the session in clear");
    $s->stop;
  }
};

subtest 'a certificate replaced between two sessions: the second uses the new one' => sub {
  my $live = "$dir/live";
  mkdir $live;
  my ($c1, $k1) = make_cert($dir, 'first.example.org');
  my ($c2, $k2) = make_cert($dir, 'second.example.org');
  system('cp', $c1, "$live/cert.pem") == 0 && system('cp', $k1, "$live/key.pem") == 0 or die;
  my ($s) = scripted(cert => "$live/cert.pem", key => "$live/key.pem");
  my $subject = sub {
    my ($rc, $out) = run_cmd(argv => ['/usr/bin/openssl', 's_client', '-starttls', 'smtp', '-connect', $s->ip . ':' . $s->port],
      stdin => "QUIT\r\n", timeout => 20);
    return $out =~ /subject=CN = (\S+)/ ? $1 : '(none)';
  };
  is($subject->(), 'first.example.org', 'the first session: the first certificate');
  for (['cert.pem', $c2], ['key.pem', $k2]) {
    system('cp', $_->[1], "$live/$_->[0].new") == 0 or die;
    rename "$live/$_->[0].new", "$live/$_->[0]" or die;
  }
  is($subject->(), 'second.example.org', 'after the files are replaced, no restart: the second');
  $s->stop;
};

subtest 'implicit TLS (-i): the handshake first' => sub {
  my ($s, $log) = scripted(opts => ['-i']);
  my ($rc, $out) = run_cmd(argv => ['/usr/bin/openssl', 's_client', '-connect', $s->ip . ':' . $s->port, '-ign_eof'],
    stdin => "EHLO client.test\r\nQUIT\r\n", timeout => 20);
  like($out, qr/^220 scripted/m, "the server's greeting, inside TLS");
  like($out, qr/^250-scripted\r?\n250-PIPELINING\r?\n250 SIZE 1000/m, 'EHLO: no STARTTLS');
  like($out, qr/^221 bye/m, 'QUIT');
  my $c = smtp_connect($s->ip, $s->port, timeout => 5);
  $c->send("EHLO plain.test\r\n");
  ok($c->is_closed(5), 'a client in clear is dropped');
  $s->stop;
};

subtest 'implicit TLS with smtp-delay behind: the delay counts inside TLS, an early talker inside TLS is caught' => sub {
  my $log = "$dir/server-delay";
  open my $fh, '>', $log or die; close $fh;
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, SMTPDELAY => '1' },
    argv => [$tls, '-i', '-c', $cert, '-k', $key, "$top/smtp-delay/smtp-delay", '-t', '5', $script, $log, '220 scripted\r\n',
      '^QUIT', '221 bye\r\n\e']);
  # a client that waits, and is slow to start TLS: the greeting a
  # second after the handshake, not after the connection (the child
  # starts once TLS is up)
  my $ip = loopback_ip();
  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 10);
  select undef, undef, undef, 1.5;
  ok($c->starttls(SSL_hostname => 'mx.example.org'), 'the handshake first') or diag $c->tls_error;
  my $t0 = Time::HiRes::time();
  $c->expect(qr/^220 scripted/, 10, "the server's greeting, inside TLS");
  my $waited = Time::HiRes::time() - $t0;
  cmp_ok($waited, '>=', 0.9, sprintf('... after the delay (%.2f s after the handshake)', $waited));
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  ok(wait_until(10, sub { $s->log_text =~ /^smtp-delay: info: pid \d+ ip \Q$ip\E .*result=pass$/m }, 'smtp-delay: pass'), 'smtp-delay passed it')
    or diag $s->log_text;
  # an early talker inside TLS: smtp-delay's refusal, the server never runs
  $ip = loopback_ip();
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 10);
  ok($c->starttls, 'the handshake');
  $c->send("EHLO early.test\r\n");
  $c->expect(qr/^220 /, 10, "smtp-delay's greeting");
  $c->expect(qr/^250/, 10, 'EHLO: 250');
  like($c->cmd('MAIL FROM:<a@example.com>'), qr/^451 4\.7\.1 Talking before the greeting/, 'MAIL: refused');
  like($c->cmd('QUIT'), qr/^221 /, 'QUIT');
  ok(wait_until(10, sub { $s->log_text =~ /^smtp-delay: info: pid \d+ ip \Q$ip\E .*result=refused/m }, 'smtp-delay: refused'),
    'smtp-delay logged the early talker') or diag $s->log_text;
  unlike(slurp($log), qr/early\.test/, 'the server never saw it');
  # a failed handshake starts nothing behind smtp-tls
  $ip = loopback_ip();
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip, timeout => 10);
  $c->send("EHLO plain.test\r\n");
  ok($c->is_closed(10), 'a client in clear is dropped');
  ok(wait_until(10, sub { $s->log_text =~ /^smtp-tls: warning: pid \d+ ip \Q$ip\E tls=failed/m }, 'the warning'), 'logged');
  unlike($s->log_text, qr/^smtp-delay: .* ip \Q$ip\E /m, 'smtp-delay never ran for it');
  $s->stop;
};

done_testing;

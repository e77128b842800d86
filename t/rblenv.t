#!/usr/bin/perl
# rblenv black-box: a real tinydns answers every DNSBL and allow-list
# zone (A and TXT records under the reversed octets or IPv6 nibbles of
# loopback client addresses); rblenv runs either directly (run_cmd with
# TCPREMOTEIP set, /usr/bin/env -0 as the child to show what it exported)
# or under the real tcpserver in front of the real rblsmtpd and exim4 -bs.
#
# Covered: filters and weights, summed scores and the -s threshold, the
# heaviest listing's TXT, allow-lists (-a, -w), configuration-fault
# answers, the TXT cut to 200 bytes, IPv6 nibbles (and ::ffff:a.b.c.d),
# a silent resolver bounded by -t, usage and zone-spec errors,
# RELAYCLIENT / RBLSMTPD already set (no query at all), -n, -L, -p, -m,
# a TXT of dashes alone (the template, never an empty RBLSMTPD), the log
# line, and eight zones in one run.
use strict;
use warnings;
use Test::More;
use IO::Socket::IP;
use Socket qw(SOCK_DGRAM);
use Time::HiRes qw(time sleep);
use lib 't/lib';
use MXTest;
use MXRun;

my $top = top();
my $rblenv = "$top/rblenv/rblenv";
plan skip_all => "$rblenv not built" unless -x $rblenv;

# ---------------------------------------------------------------------------
# clients and the DNS data

my %ip;
# (a loop, not map: loopback_ip() reads /proc with while (<$fh>))
for my $who (qw(listed filtered clean multi allow fault fault10 long late
                trusted par silent chain553 v4mapped random dash1 dash3 dashblank)) {
  $ip{$who} = loopback_ip();
}
my $V6 = '2001:db8::1';

sub rev { join '.', reverse split /\./, $_[0] }
# 32 reversed nibbles of an IPv6 address (Socket's inet_pton)
sub nibbles {
  my $bin = Socket::inet_pton(Socket::AF_INET6(), $_[0]) // die "bad IPv6 $_[0]";
  return join '.', reverse split //, unpack 'H32', $bin;
}
# a TXT record line; tinydns-data needs a colon written as \072
sub txt { my ($name, $text) = @_; (my $t = $text) =~ s/:/\\072/g; "'$name:$t" }

my %TXT = (
  listed  => 'Listed by zen: see https://zen.example/lookup?ip',
  multi_z => 'zen says: go away',
  multi_b => 'bl says: go away',
  long    => join('', map { chr(ord('a') + $_ % 26) } 0 .. 299),    # 300 bytes
  v6      => 'IPv6 client listed by zen',
  lo6     => 'loopback six is listed',
);
my @PAR = map { "p$_.example" } 1 .. 8;

my @data = (
  (map { ".${_}::" } qw(zen.example bl.example wl.example bad.example nothing.example), @PAR),
  # 1: listed (answer in the filter) and filtered (127.0.0.12, outside it)
  '+' . rev($ip{listed}) . '.zen.example:127.0.0.2',     txt(rev($ip{listed}) . '.zen.example', $TXT{listed}),
  '+' . rev($ip{filtered}) . '.zen.example:127.0.0.12',  txt(rev($ip{filtered}) . '.zen.example', 'filtered text'),
  # 2: two blocklists
  '+' . rev($ip{multi}) . '.zen.example:127.0.0.4',      txt(rev($ip{multi}) . '.zen.example', $TXT{multi_z}),
  '+' . rev($ip{multi}) . '.bl.example:127.0.0.2',       txt(rev($ip{multi}) . '.bl.example', $TXT{multi_b}),
  # 3: listed and allow-listed
  '+' . rev($ip{allow}) . '.zen.example:127.0.0.2',      txt(rev($ip{allow}) . '.zen.example', 'allow-listed client'),
  '+' . rev($ip{allow}) . '.wl.example:127.0.10.2',
  # 4: configuration faults
  '+' . rev($ip{fault}) . '.bad.example:127.255.255.254', txt(rev($ip{fault}) . '.bad.example', 'over quota'),
  '+' . rev($ip{fault10}) . '.bad.example:10.0.0.2',      txt(rev($ip{fault10}) . '.bad.example', 'private'),
  # 5: a TXT longer than 200 bytes (tinydns-data splits it in strings)
  '+' . rev($ip{long}) . '.zen.example:127.0.0.3',       txt(rev($ip{long}) . '.zen.example', $TXT{long}),
  # 10: late mode; 9: a trusted client that would be listed
  '+' . rev($ip{late}) . '.zen.example:127.0.0.2',       txt(rev($ip{late}) . '.zen.example', 'late text'),
  '+' . rev($ip{trusted}) . '.zen.example:127.0.0.2',    txt(rev($ip{trusted}) . '.zen.example', 'trusted text'),
  # 5: -p through rblsmtpd (listed, no TXT: the -m template is used)
  '+' . rev($ip{chain553}) . '.zen.example:127.0.0.2',
  # 13: TXT records of dashes alone, and a dash before blanks (\040)
  '+' . rev($ip{dash1}) . '.zen.example:127.0.0.2',      txt(rev($ip{dash1}) . '.zen.example', '-'),
  '+' . rev($ip{dash3}) . '.zen.example:127.0.0.2',      txt(rev($ip{dash3}) . '.zen.example', '---'),
  '+' . rev($ip{dashblank}) . '.zen.example:127.0.0.2',  txt(rev($ip{dashblank}) . '.zen.example', '-\040\040'),
  # 6: IPv6 nibbles, and the IPv4 of a mapped address
  '+' . nibbles($V6) . '.zen.example:127.0.0.2',         txt(nibbles($V6) . '.zen.example', $TXT{v6}),
  '+' . nibbles('::1') . '.zen.example:127.0.0.2',       txt(nibbles('::1') . '.zen.example', $TXT{lo6}),
  '+' . rev($ip{v4mapped}) . '.zen.example:127.0.0.2',   txt(rev($ip{v4mapped}) . '.zen.example', 'mapped listed'),
  # 12: eight zones
  (map { '+' . rev($ip{par}) . ".$_:127.0.0.2" } @PAR),
);
my $dns = start_tinydns(data => join '', map { "$_\n" } @data);

my $ZEN = 'zen.example=127.0.0.[2..11]*3';
my @RBLVARS = qw(RBLSMTPD RBLSCORE RBLLISTS RBLLATE);

# ---------------------------------------------------------------------------
# helpers

# runs rblenv OPTS /usr/bin/env -0 for client IP: (exit code, {RBL* the
# child saw}, stderr, seconds)
sub rblenv {
  my (%a) = @_;
  my $t0 = time;
  my ($rc, $out, $err) = run_cmd(
    argv => [$rblenv, @{ $a{opts} }, '/usr/bin/env', '-0'],
    env => { DNSCACHEIP => $a{dnscache} // $dns->ip, TCPREMOTEIP => $a{ip},
             RELAYCLIENT => undef, (map { $_ => undef } @RBLVARS), %{ $a{env} || {} } },
    timeout => $a{timeout} // 10);
  my $took = time - $t0;
  my %env = map { /^(\w+)=(.*)\z/s ? ($1 => $2) : () } split /\0/, $out;
  return ($rc, { map { exists $env{$_} ? ($_ => $env{$_}) : () } @RBLVARS, 'RELAYCLIENT' }, $err, $took);
}

# rblenv's info lines in a stderr text
sub info_lines { grep { /^rblenv: info: / } split /\n/, $_[0] }


# datagrams waiting on a socket (non-blocking)
sub datagrams {
  my ($s) = @_;
  my $n = 0;
  $s->blocking(0);
  while (defined $s->recv(my $buf, 1500)) { $n++ }
  $s->blocking(1);
  return $n;
}

# ---------------------------------------------------------------------------

subtest 'single listing: filter, weight, TXT' => sub {
  my ($rc, $env, $err) = rblenv(ip => $ip{listed}, opts => ['-r', $ZEN]);
  is($rc, 0, 'exit 0 (the child\'s)') or diag $err;
  is($env->{RBLSMTPD}, $TXT{listed}, 'RBLSMTPD is the TXT text (colon included)');
  is($env->{RBLSCORE}, '3', 'RBLSCORE=3 (the weight)');
  is($env->{RBLLISTS}, 'zen.example', 'RBLLISTS=zen.example');
  ok(!exists $env->{RBLLATE}, 'RBLLATE not set');

  ($rc, $env, $err) = rblenv(ip => $ip{filtered}, opts => ['-r', $ZEN]);
  is($rc, 0, 'filtered: exit 0');
  ok(!exists $env->{RBLSMTPD}, 'answer 127.0.0.12 is outside the filter: RBLSMTPD not set');
  is($env->{RBLSCORE}, '0', '... RBLSCORE=0');
  is($env->{RBLLISTS}, '', '... RBLLISTS empty');
  like($err, qr/ zone=zen\.example:127\.0\.0\.12,filtered,\d+ms score=0 result=clean /, '... logged as filtered');

  # the same answer without a filter lists (any 127/8 answer), default weight 1
  ($rc, $env) = rblenv(ip => $ip{filtered}, opts => ['-r', 'zen.example']);
  is($env->{RBLSMTPD}, 'filtered text', 'without a filter 127.0.0.12 lists');
  is($env->{RBLSCORE}, '1', '... with the default weight 1');

  ($rc, $env) = rblenv(ip => $ip{clean}, opts => ['-r', $ZEN]);
  ok(!exists $env->{RBLSMTPD}, 'a clean client: RBLSMTPD not set');
  is($env->{RBLSCORE}, '0', '... RBLSCORE=0');
};

subtest 'several listings: weights summed, -s threshold, heaviest TXT' => sub {
  my @z = ('-r', 'zen.example*3', '-r', 'bl.example=127.0.0.2*2');
  my ($rc, $env, $err) = rblenv(ip => $ip{multi}, opts => ['-s', '6', @z]);
  is($env->{RBLSCORE}, '5', 'score 3 + 2 = 5');
  is($env->{RBLLISTS}, 'zen.example,bl.example', 'RBLLISTS names both zones');
  ok(!exists $env->{RBLSMTPD}, '-s 6: below the threshold, RBLSMTPD not set');
  like($err, qr/ score=5 result=clean /, '... logged result=clean');

  ($rc, $env, $err) = rblenv(ip => $ip{multi}, opts => ['-s', '5', @z]);
  is($env->{RBLSMTPD}, $TXT{multi_z}, '-s 5: at the threshold, RBLSMTPD is the TXT of the heaviest (zen, 3)');
  like($err, qr/ score=5 result=refused /, '... logged result=refused');

  ($rc, $env) = rblenv(ip => $ip{multi}, opts => ['-s', '5', '-r', 'zen.example*1', '-r', 'bl.example*4']);
  is($env->{RBLSMTPD}, $TXT{multi_b}, 'weights swapped: the TXT of bl.example (4), whatever the order');

  # -m: the template when the heaviest listing has no TXT
  ($rc, $env) = rblenv(ip => $ip{chain553}, opts => ['-m', 'Blocked %IP% via %ZONE%.', '-r', $ZEN]);
  is($env->{RBLSMTPD}, "Blocked $ip{chain553} via zen.example.", 'no TXT: -m with %IP% and %ZONE% filled in');
  ($rc, $env) = rblenv(ip => $ip{chain553}, opts => ['-r', $ZEN]);
  is($env->{RBLSMTPD}, "Client address $ip{chain553} is listed by zen.example", '... default template');
};

subtest 'allow-list outweighs a listing' => sub {
  my @z = ('-r', $ZEN, '-a', 'wl.example=127.0.[0..255].[1..3]*-5');
  my ($rc, $env, $err) = rblenv(ip => $ip{allow}, opts => \@z);
  is($rc, 0, 'exit 0');
  is($env->{RBLSCORE}, '-2', 'score 3 - 5 = -2');
  ok(exists $env->{RBLSMTPD}, 'RBLSMTPD set ...');
  is($env->{RBLSMTPD}, '', '... and empty (rblsmtpd accepts the client)');
  my %lists = map { $_ => 1 } split /,/, $env->{RBLLISTS} // '';
  ok($lists{'zen.example'} && $lists{'wl.example'}, 'RBLLISTS has both zones') or diag $env->{RBLLISTS};
  like($err, qr/ zone=wl\.example:127\.0\.10\.2,listed,\d+ms .*score=-2 result=allowed /, 'logged result=allowed');

  # "*5" means the same as "*-5" with -a
  ($rc, $env) = rblenv(ip => $ip{allow}, opts => ['-r', $ZEN, '-a', 'wl.example*5']);
  is($env->{RBLSCORE}, '-2', '-a wl.example*5 subtracts too');

  # -w -3: -2 is not low enough to allow, not high enough to refuse
  ($rc, $env, $err) = rblenv(ip => $ip{allow}, opts => ['-w', '-3', @z]);
  ok(!exists $env->{RBLSMTPD}, '-w -3: score -2 leaves RBLSMTPD unset');
  like($err, qr/ score=-2 result=clean /, '... result=clean');
};

subtest 'configuration-fault answers never count' => sub {
  for my $case ([fault => '127.255.255.254'], [fault10 => '10.0.0.2']) {
    my ($who, $answer) = @$case;
    my ($rc, $env, $err) = rblenv(ip => $ip{$who}, opts => ['-r', 'bad.example*5']);
    is($rc, 0, "$answer: exit 0");
    ok(!exists $env->{RBLSMTPD}, "$answer: RBLSMTPD not set");
    is($env->{RBLSCORE}, '0', "$answer: RBLSCORE=0");
    is($env->{RBLLISTS}, '', "$answer: RBLLISTS empty");
    like($err, qr/^rblenv: warning: pid \d+ ip \Q$ip{$who}\E zone=bad\.example answer=\Q$answer\E reason=configuration fault/m,
      "$answer: a warning naming the zone and the answer (configuration fault)");
    like($err, qr/ zone=bad\.example:\Q$answer\E,fault,\d+ms score=0 result=clean /, "$answer: logged as fault");
  }
};

subtest 'TXT longer than 200 bytes is cut' => sub {
  my ($rc, $env) = rblenv(ip => $ip{long}, opts => ['-r', $ZEN]);
  is(length($env->{RBLSMTPD} // ''), 200, 'RBLSMTPD is 200 bytes');
  is($env->{RBLSMTPD}, substr($TXT{long}, 0, 200), '... the first 200 of the TXT (strings joined)');
  ($rc, $env) = rblenv(ip => $ip{long}, opts => ['-p', '-r', $ZEN]);
  is($env->{RBLSMTPD}, '-' . substr($TXT{long}, 0, 200), '-p: a leading - before the cut text');
};

subtest 'through tcpserver, rblsmtpd and exim4 -bs' => sub {
  my $mta = exim_child();
  # rblsmtpd's own lookup goes to nothing.example (answered "no"):
  # whatever is refused here was refused because of rblenv
  my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $dns->ip },
    argv => [$rblenv, '-r', $ZEN, '/usr/bin/rblsmtpd', '-t', '10', '-r', 'nothing.example', @{ $mta->argv }]);

  my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{listed});
  $c->expect(qr/^220 rblsmtpd\.local\r\n$/, 5, 'listed: rblsmtpd greets');
  $c->sendline('EHLO listed.example');
  $c->expect(qr/^250 /, 5, 'listed: EHLO 250');
  $c->sendline('MAIL FROM:<a@example.net>');
  my ($code) = $c->read_reply(5);
  ok(defined $code, 'listed: MAIL answered');
  $c->sendline('RCPT TO:<someone@example.org>');
  $c->expect(qr/^451 \Q$TXT{listed}\E\r\n$/, 5, 'listed: RCPT gets 451 with the TXT text');
  $c->sendline('DATA');
  $c->expect(qr/^451 \Q$TXT{listed}\E\r\n$/, 5, 'listed: DATA gets 451 too');
  $c->sendline('QUIT');
  $c->expect(qr/^221 /, 5, 'listed: QUIT 221');
  ok($c->is_closed(5), 'listed: closed');
  like($s->log_text, qr/^rblsmtpd: \Q$ip{listed}\E pid \d+: 451 \Q$TXT{listed}\E$/m, 'rblsmtpd logged the refusal');
  like($s->log_text, qr/^rblenv: info: pid \d+ ip \Q$ip{listed}\E zone=zen\.example:127\.0\.0\.2,listed,\d+ms score=3 result=refused elapsed=\d+$/m,
    'rblenv logged under tcpserver');

  # a clean client reaches exim
  my ($rc, $out) = swaks(server => $s, opts => ['--local-interface', $ip{clean},
    '--from', 'sender@example.net', '--to', 'someone@example.org', '--body', 'through rblenv'], timeout => 20);
  is($rc, 0, 'clean: swaks delivers a message') or diag $out;
  like($out, qr/^<-  220 mx\.example\.org/m, "clean: exim's greeting");
  $mta->wait_messages(1, 10);
  like(join('', $mta->message_bodies), qr/^through rblenv\r$/m, 'clean: delivered');
  like($s->log_text, qr/^rblenv: info: pid \d+ ip \Q$ip{clean}\E zone=zen\.example:nx,\d+ms score=0 result=clean elapsed=\d+$/m,
    'clean: rblenv logged result=clean');
  $s->stop;

  # -p: 553
  $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $dns->ip },
    argv => [$rblenv, '-p', '-r', $ZEN, '/usr/bin/rblsmtpd', '-t', '10', '-r', 'nothing.example', @{ $mta->argv }]);
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{chain553});
  $c->expect(qr/^220 rblsmtpd\.local\r\n$/, 5, '-p: rblsmtpd greets');
  $c->sendline('HELO x');
  $c->expect(qr/^250 /, 5, '-p: HELO 250');
  $c->sendline('MAIL FROM:<a@example.net>');
  $c->read_reply(5);
  $c->sendline('RCPT TO:<someone@example.org>');
  $c->expect(qr/^553 Client address \Q$ip{chain553}\E is listed by zen\.example\r\n$/, 5, '-p: RCPT gets 553 (template text, no dash)');
  $c->close;
  $s->stop;

  # allowed: rblsmtpd would refuse by its own lookup of zen.example, but
  # rblenv's RBLSMTPD="" makes it pass the client to exim
  $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $dns->ip },
    argv => [$rblenv, '-r', $ZEN, '-a', 'wl.example*5', '/usr/bin/rblsmtpd', '-t', '10', '-r', 'zen.example', @{ $mta->argv }]);
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{allow});
  $c->expect(qr/^220 mx\.example\.org /, 5, 'allowed: exim greets despite rblsmtpd -r zen.example');
  $c->sendline('QUIT');
  $c->expect(qr/^221 /, 5, 'allowed: QUIT 221');
  $c->close;
  $c = smtp_connect($s->ip, $s->port, local_ip => $ip{listed});
  $c->expect(qr/^220 rblsmtpd\.local\r\n$/, 5, 'control: a listed client gets rblsmtpd');
  $c->close;
  $s->stop;
};

subtest 'a TXT of dashes alone: the template, never an empty refusal' => sub {
  # rblsmtpd takes an empty RBLSMTPD for "accept": a listed client must
  # get a refusal text all the same
  for my $who (qw(dash1 dash3 dashblank)) {
    my $tmpl = "Client address $ip{$who} is listed by zen.example";
    my ($rc, $env, $err) = rblenv(ip => $ip{$who}, opts => ['-r', $ZEN]);
    is($rc, 0, "$who: exit 0") or diag $err;
    is($env->{RBLSMTPD}, $tmpl, "$who: RBLSMTPD is the template, not empty");
    like($err, qr/ score=3 result=refused /, "$who: logged result=refused");
    ($rc, $env) = rblenv(ip => $ip{$who}, opts => ['-p', '-r', $ZEN]);
    is($env->{RBLSMTPD}, "-$tmpl", "$who, -p: the template after one leading -");
    ($rc, $env) = rblenv(ip => $ip{$who}, opts => ['-m', 'Go away, %IP%', '-r', $ZEN]);
    is($env->{RBLSMTPD}, "Go away, $ip{$who}", "$who, -m: the -m template");
    ($rc, $env, $err) = rblenv(ip => $ip{$who}, opts => ['-L', '-r', $ZEN]);
    is($env->{RBLLATE}, $tmpl, "$who, -L: RBLLATE is the template, not empty");
    ok(!exists $env->{RBLSMTPD}, "$who, -L: RBLSMTPD not set");
    like($err, qr/ score=3 result=late /, "$who, -L: logged result=late");
    ($rc, $env) = rblenv(ip => $ip{$who}, opts => ['-L', '-p', '-r', $ZEN]);
    is($env->{RBLLATE}, "-$tmpl", "$who, -L -p: RBLLATE is - and the template");
  }
  # a -m of dashes or blanks alone would be empty too: the default template
  for my $m ('-', '---', '', '  ') {
    my ($rc, $env) = rblenv(ip => $ip{dash1}, opts => ['-m', $m, '-r', $ZEN]);
    is($env->{RBLSMTPD}, "Client address $ip{dash1} is listed by zen.example", "-m '$m': the default template");
    ($rc, $env) = rblenv(ip => $ip{chain553}, opts => ['-p', '-L', '-m', $m, '-r', $ZEN]);
    is($env->{RBLLATE}, "-Client address $ip{chain553} is listed by zen.example", "-m '$m', no TXT, -L -p: the default template");
  }

  # rblsmtpd really refuses them: 451, or 553 with -p
  my $mta = exim_child();
  for my $p ([[], '451'], [['-p'], '553']) {
    my ($opt, $code) = @$p;
    my $o = join '', map { " $_" } @$opt;
    my $s = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $dns->ip },
      argv => [$rblenv, @$opt, '-r', $ZEN, '/usr/bin/rblsmtpd', '-t', '10', '-r', 'nothing.example', @{ $mta->argv }]);
    for my $who (qw(dash1 dash3)) {
      my $c = smtp_connect($s->ip, $s->port, local_ip => $ip{$who});
      $c->expect(qr/^220 rblsmtpd\.local\r\n$/, 5, "$who$o: rblsmtpd greets, not the MTA");
      $c->sendline('HELO x');
      $c->expect(qr/^250 /, 5, "$who$o: HELO 250");
      $c->sendline('MAIL FROM:<a@example.net>');
      $c->read_reply(5);
      $c->sendline('RCPT TO:<someone@example.org>');
      $c->expect(qr/^$code Client address \Q$ip{$who}\E is listed by zen\.example\r\n$/, 5,
        "$who$o: RCPT gets $code with the template text");
      $c->close;
      like($s->log_text, qr/^rblsmtpd: \Q$ip{$who}\E pid \d+: $code Client address \Q$ip{$who}\E is listed by zen\.example$/m,
        "$who$o: rblsmtpd logged the refusal");
    }
    $s->stop;
  }
};

subtest 'IPv6' => sub {
  my ($rc, $env, $err) = rblenv(ip => $V6, opts => ['-r', $ZEN]);
  is($env->{RBLSMTPD}, $TXT{v6}, "$V6: listed through the nibble name");
  like($err, qr/^rblenv: info: pid \d+ ip \Q$V6\E zone=zen\.example:127\.0\.0\.2,listed,\d+ms score=3 result=refused /m, '... logged');
  ($rc, $env) = rblenv(ip => '2001:db8::2', opts => ['-r', $ZEN]);
  ok(!exists $env->{RBLSMTPD}, '2001:db8::2: not listed');
  ($rc, $env, $err) = rblenv(ip => "::ffff:$ip{v4mapped}", opts => ['-r', $ZEN]);
  is($env->{RBLSMTPD}, 'mapped listed', "::ffff:$ip{v4mapped} is looked up as the IPv4 address");

  SKIP: {
    skip 'no ::1 on this machine', 3 unless IO::Socket::IP->new(Listen => 1, LocalHost => '::1', LocalPort => 0);
    my $dir = tmpdir();
    my $s = start_tcpserver(ip => '::1', opts => ['-R', '-H', '-l0'], env => { DNSCACHEIP => $dns->ip },
      argv => [$rblenv, '-r', $ZEN, '/bin/sh', '-c', 'echo "RBLSMTPD=[${RBLSMTPD-unset}] RBLSCORE=[${RBLSCORE-unset}]"']);
    my $c = smtp_connect('::1', $s->port);
    my $line = $c->read_line(5);
    is($line, "RBLSMTPD=[$TXT{lo6}] RBLSCORE=[3]\n", '::1 through tcpserver: listed via its nibble name');
    ok($c->is_closed(5), '... the child ends');
    like($s->log_text, qr/^rblenv: info: pid \d+ ip ::1 zone=zen\.example:127\.0\.0\.2,listed,\d+ms score=3 result=refused /m, '... logged ip ::1');
    $s->stop;
  }
};

subtest 'a silent resolver: bounded by -t, fails open' => sub {
  my ($sip, $sock) = silent_resolver();
  my ($rc, $env, $err, $took) = rblenv(ip => $ip{listed}, dnscache => $sip, opts => ['-t', '0.5', '-r', $ZEN, '-r', 'bl.example']);
  is($rc, 0, 'exit status 0 (the child ran)');
  # < 2.5: room for a loaded machine, still under the default -t of 3 s
  # that an ignored -t 0.5 would wait
  ok($took >= 0.45 && $took < 2.5, sprintf('ends after about 0.5 s (%.3f s)', $took));
  ok(!exists $env->{RBLSMTPD}, 'RBLSMTPD not set: fail open');
  is($env->{RBLSCORE}, '0', 'RBLSCORE=0');
  like($err, qr/^rblenv: info: pid \d+ ip \Q$ip{listed}\E zone=zen\.example:timeout zone=bl\.example:timeout score=0 result=clean elapsed=\d+$/m,
    'logged zone=...:timeout for each zone');
  ok(datagrams($sock) >= 1, 'the queries did reach the silent server');

  # one zone answered, one silent (tinydns ignores names outside its zones)
  ($rc, $env, $err, $took) = rblenv(ip => $ip{listed}, opts => ['-t', '0.5', '-r', $ZEN, '-r', 'silent.invalid']);
  is($env->{RBLSMTPD}, $TXT{listed}, 'answered zone + silent zone: still listed by the answered one');
  # < 2.5: under the default -t of 3 s (see above)
  ok($took < 2.5, sprintf('... within the bound (%.3f s)', $took));
  like($err, qr/ zone=zen\.example:127\.0\.0\.2,listed,\d+ms zone=silent\.invalid:timeout score=3 result=refused /, '... logged listed and timeout') or diag $err;
};

subtest 'usage and zone-spec errors: exit 100' => sub {
  for my $case (['zen..example', 'empty label'], ['zen.example=127.0.0.[11..2]', 'backwards'],
                ['zen.example*abc', 'weight not a whole number'], ['zen.example=127.0.0', 'four octets'],
                ['zen.example=127.0.0.[2..11', 'not closed']) {
    my ($spec, $why) = @$case;
    my ($rc, $env, $err) = rblenv(ip => $ip{listed}, opts => ['-r', $spec]);
    is($rc, 100, "-r '$spec': exit 100");
    like($err, qr/invalid zone spec \Q$spec\E: .*\Q$why\E/, "... message: invalid zone spec, $why");
    ok(!exists $env->{RBLSCORE}, '... the child did not run');
  }
  my ($rc, $env, $err) = rblenv(ip => $ip{listed}, opts => ['-a', 'wl..example']);
  is($rc, 100, '-a with a bad spec: exit 100');
  ($rc, $env, $err) = rblenv(ip => $ip{listed}, opts => []);
  is($rc, 100, 'no zones: exit 100');
  like($err, qr/usage/i, '... usage message');
  ($rc, undef, $err) = run_cmd(argv => [$rblenv, '-r', $ZEN], env => { TCPREMOTEIP => $ip{listed} });
  is($rc, 100, 'no child: exit 100');
  for my $sw (['-s', '-1'], ['-s', '0', '-w', '0'], ['-s', '2', '-w', '5']) {
    ($rc, $env, $err) = rblenv(ip => $ip{listed}, opts => [@$sw, '-r', $ZEN]);
    is($rc, 100, "@$sw: -s not above -w: exit 100");
    like($err, qr/-s.*-w|threshold/, '... says why');
  }
  ($rc, $env) = rblenv(ip => $ip{listed}, opts => ['-t', '0', '-r', $ZEN]);
  is($rc, 100, '-t 0: exit 100');
  ($rc, undef, $err) = run_cmd(argv => [$rblenv, '-r', $ZEN, "$top/t/no-such-program"],
    env => { TCPREMOTEIP => $ip{clean}, DNSCACHEIP => $dns->ip });
  is($rc, 111, 'a child that cannot be run: exit 111');
};

subtest 'RELAYCLIENT or RBLSMTPD already set: no lookup' => sub {
  my ($sip, $sock) = silent_resolver();
  for my $case ([{ RELAYCLIENT => '' }, 'trusted'], [{ RBLSMTPD => 'tcprules said no' }, 'decided'],
                [{ RBLSMTPD => '' }, 'decided']) {
    my ($set, $result) = @$case;
    my ($k) = keys %$set;
    my $name = "$k=\"$set->{$k}\"";
    my ($rc, $env, $err, $took) = rblenv(ip => $ip{trusted}, dnscache => $sip, env => $set, opts => ['-t', '5', '-r', $ZEN]);
    is($rc, 0, "$name: exit 0");
    # < 4: room for a loaded machine, under the 5 s a lookup would wait
    ok($took < 4, sprintf('%s: the silent resolver (-t 5) does not slow it (%.3f s)', $name, $took));
    is(datagrams($sock), 0, "$name: no DNS query sent");
    like($err, qr/^rblenv: info: pid \d+ ip \Q$ip{trusted}\E result=\Q$result\E/m, "$name: logged result=$result");
    is_deeply($env, $set, "$name: environment unchanged (no RBLSCORE, RBLLISTS)");
  }
};

subtest 'dry run (-n) and late mode (-L)' => sub {
  my ($rc, $env, $err) = rblenv(ip => $ip{late}, opts => ['-n', '-r', $ZEN]);
  is($rc, 0, '-n: exit 0');
  ok(!exists $env->{RBLSMTPD}, '-n: RBLSMTPD not set');
  ok(!exists $env->{RBLLATE}, '-n: RBLLATE not set');
  is($env->{RBLSCORE}, '3', '-n: RBLSCORE exported');
  is($env->{RBLLISTS}, 'zen.example', '-n: RBLLISTS exported');
  like($err, qr/ score=3 result=refused dryrun=1 elapsed=\d+$/m, '-n: verdict logged with dryrun=1');

  ($rc, $env, $err) = rblenv(ip => $ip{allow}, opts => ['-n', '-r', $ZEN, '-a', 'wl.example*5']);
  ok(!exists $env->{RBLSMTPD}, '-n, allowed client: RBLSMTPD not set either');
  like($err, qr/ score=-2 result=allowed dryrun=1 /, '... logged result=allowed dryrun=1');

  ($rc, $env, $err) = rblenv(ip => $ip{late}, opts => ['-L', '-r', $ZEN]);
  is($env->{RBLLATE}, 'late text', '-L: RBLLATE is the text');
  ok(!exists $env->{RBLSMTPD}, '-L: RBLSMTPD not set');
  is($env->{RBLSCORE}, '3', '-L: RBLSCORE=3');
  like($err, qr/ score=3 result=late elapsed=\d+$/m, '-L: logged result=late');

  ($rc, $env) = rblenv(ip => $ip{late}, opts => ['-L', '-p', '-r', $ZEN]);
  is($env->{RBLLATE}, '-late text', '-L -p: RBLLATE with the leading -');
};

subtest 'the log line' => sub {
  my ($rc, $env, $err) = rblenv(ip => $ip{multi},
    opts => ['-r', 'zen.example*3', '-r', 'bl.example*2', '-r', 'nothing.example', '-a', 'wl.example*5']);
  my @info = info_lines($err);
  is(scalar @info, 1, 'exactly one info line') or diag $err;
  like($info[0] // '', qr/^rblenv: info: pid (\d+) ip \Q$ip{multi}\E zone=zen\.example:127\.0\.0\.4,listed,\d+ms zone=bl\.example:127\.0\.0\.2,listed,\d+ms zone=nothing\.example:nx,\d+ms zone=wl\.example:nx,\d+ms score=5 result=refused elapsed=\d+$/,
    'every zone with its answer and time, then score=, result=, elapsed=');
  unlike($err, qr/warning/, 'no warning');
  my ($elapsed) = ($info[0] // '') =~ /elapsed=(\d+)$/;
  ok(defined $elapsed && $elapsed < 3000, 'elapsed in ms, within -t');
};

subtest 'eight zones in one run' => sub {
  my ($rc, $env, $err, $took) = rblenv(ip => $ip{par}, opts => ['-t', '2', map { ('-r', $_) } @PAR]);
  is($rc, 0, 'exit 0');
  is($env->{RBLSCORE}, '8', 'score 8: every zone answered');
  is($env->{RBLLISTS}, join(',', @PAR), 'RBLLISTS names all eight, in order');
  is($env->{RBLSMTPD}, "Client address $ip{par} is listed by p1.example", 'no TXT anywhere: the template with the first zone (all weigh 1)');
  my @listed = ($err =~ /zone=p\d\.example:127\.0\.0\.2,listed,\d+ms/g);
  is(scalar @listed, 8, 'the log line shows eight listings');
  # within -t by rblenv's own figure (elapsed=, ms): the client's clock
  # adds a loaded machine's start-up of rblenv and its child
  my ($elapsed) = $err =~ / result=\w+ elapsed=(\d+)$/m;
  ok(defined $elapsed && $elapsed < 2000, sprintf('well within -t 2 (elapsed=%s ms; %.3f s for the client)', $elapsed // '?', $took));
};

subtest 'query ids and source ports differ from run to run' => sub {
  # tinydns logs each query as CLIENTIP:PORT:ID in hex
  my $name = rev($ip{random}) . '.zen.example';
  rblenv(ip => $ip{random}, opts => ['-r', $ZEN]) for 1 .. 3;
  my $re = qr/^[0-9a-f]+:([0-9a-f]{4}):([0-9a-f]{4}) [+-] 0001 \Q$name\E$/m;
  wait_until(3, sub { my @q = $dns->log_text =~ /$re/g; @q >= 6 }, 'tinydns logs the three A queries');
  my @q = $dns->log_text =~ /$re/g;
  my (%ports, %ids);
  while (my ($port, $id) = splice @q, 0, 2) { $ports{$port}++; $ids{$id}++ }
  # (an unseeded generator would send every run from one port with one
  # id: answers anyone could forge)
  ok(keys(%ports) > 1, 'three runs: not all from one source port (' . join(',', sort keys %ports) . ')');
  ok(keys(%ids) > 1, 'three runs: not all with one query id (' . join(',', sort keys %ids) . ')');
};

done_testing;

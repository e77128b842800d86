#!/usr/bin/perl
# mxguard-report -H: the page of a log the chain wrote, in a real
# browser. The chain (tcpserver, smtp-tls, rcptchecks, exim4 -bs) takes
# scripted sessions whose HELO names, senders and recipients carry
# markup (<script>, an <img> with onerror, </title><svg onload>, quotes,
# & and '), a recipient accepted and delivered, unknown ones refused, a
# session in TLS and others in clear; to that log a forged line (a
# sender with quotes, which reaches an attribute value), under a file
# name of markup and bytes that are not text; then mxguard-report -H
# over it, and headless Chromium renders the page (--dump-dom). The DOM
# holds the
# tables and the charts with their bars, the counts the text report
# gives, only the writer's own elements and attributes (no script, no
# img, no on* attribute, no svg but the charts) and the hostile strings
# as text; the page refers to nothing outside itself.
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;
use MXReport;

my $top = top();
my $bin = "$top/report/mxguard-report";
plan skip_all => "$bin not built" unless -x $bin;
my ($chromium) = grep { -x } map { "$_/chromium" } split /:/, $ENV{PATH} // '';
plan skip_all => 'chromium is not installed (Debian package chromium): the page is checked in a real browser' unless $chromium;
plan skip_all => 'openssl or IO::Socket::SSL missing' unless -x '/usr/bin/openssl' && eval { require IO::Socket::SSL };

my $dir = tmpdir();
my ($cert, $key) = make_cert($dir, 'mx.example.org');
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n", "$dir/recipients.cdb");
my $mta = exim_child();
my $chain = start_tcpserver(opts => ['-R', '-H', '-l0'], env => { RELAYCLIENT => undef, RBLLATE => undef },
  argv => ["$top/smtp-tls/smtp-tls", '-c', $cert, '-k', $key, '-l', 'mx.example.org',
           "$top/rcptchecks/rcptchecks", '-c', $cdb, @{ $mta->argv }]);

# the hostile strings, and what each session sends
my %hostile = (
  script => '<script>alert(1)</script>',
  img    => '"><img src=x onerror=alert(2)>',
  svg    => '</title><svg onload=alert(3)>',
);
my @sessions = (
  { helo => $hostile{script}, from => '<x=y\'z&w@evil.test>', rcpts => ["<\"$hostile{script}\"\@example.org>", '<nobody@example.org>'] },
  { helo => $hostile{img}, from => "<o'brien&co\@evil.test>", rcpts => ["<\"\\$hostile{img}\"\@example.org>", '<nobody@example.org>'] },
  { helo => $hostile{svg}, from => '<a&b@evil.test>', rcpts => ["<\"$hostile{svg}\"\@example.org>", '<ghost@example.org>'] },
  { helo => 'client.test', from => '<sender@other.test>', rcpts => ['<alice@example.org>'], data => 1 },
  { helo => 'tls.test', from => '<sender@other.test>', rcpts => ['<alice@example.org>', '<nobody@example.org>'], tls => 1 },
);
my $n = 0;
for my $s (@sessions) {
  my $ip = loopback_ip();
  my $c = smtp_connect($chain->ip, $chain->port, local_ip => $ip, timeout => 10);
  $c->expect(qr/^220 /, 10, "session $n: the greeting");
  # exim refuses a hostile name, which rcptchecks has seen: a second EHLO
  my $ehlo = $c->cmd("EHLO $s->{helo}");
  like($ehlo, qr/^(?:250[ -]|501 )/m, "session $n: EHLO $s->{helo}");
  like($c->cmd('EHLO client.test'), qr/^250[ -]/m, "session $n: EHLO again") if $ehlo =~ /^501 /;
  if ($s->{tls}) {
    like($c->cmd('STARTTLS'), qr/^220 /, "session $n: STARTTLS");
    ok($c->starttls, "session $n: the handshake");
    like($c->cmd("EHLO $s->{helo}"), qr/^250[ -]/m, "session $n: EHLO inside TLS");
  }
  my $mail = $c->cmd("MAIL FROM:$s->{from}");
  like($mail, qr/^250 /, "session $n: MAIL FROM:$s->{from}") or diag $mail;
  for my $r (@{ $s->{rcpts} }) {
    my $reply = $c->cmd("RCPT TO:$r");
    like($reply, $r =~ /alice/ ? qr/^250 / : qr/^5\d\d /, "session $n: RCPT TO:$r") or diag $reply;
  }
  if ($s->{data}) {
    like($c->cmd('DATA'), qr/^354 /, "session $n: DATA");
    like($c->cmd("Subject: report\r\n\r\nhello\r\n."), qr/^250 /, "session $n: the message accepted");
  }
  like($c->cmd('QUIT'), qr/^221 /, "session $n: QUIT");
  $c->close;
  $n++;
}
# every session's last lines: rcptchecks' and smtp-tls's
wait_until(15, sub { (() = $chain->log_text =~ /^smtp-tls: info: .* result=/mg) >= @sessions
                  && (() = $chain->log_text =~ /^rcptchecks: info: .* result=quit/mg) >= @sessions }, 'the sessions\' log lines');
$chain->stop;
my $log = $chain->log_text;
note $log;
# a line as no program of the chain writes it, a quote in the sender
# (rcptchecks refuses such a sender): the page puts senders in attribute
# values too; and a file name of markup, a control character and a byte
# that is not UTF-8, which the page names
my $forged = 'rcptchecks: info: pid 1 ip 192.0.2.1 helo=<x> from=<"onmouseover=alert(4)"@evil.test> rcpt=<nobody@example.org> result=unknown delay=0.000';
$hostile{quote} = '"onmouseover=alert(4)"@evil.test';
my $file = "$dir/current <img src=x onerror=alert(5)>\e\xff";
open my $fh, '>', $file or die; print {$fh} "$log$forged\n"; close $fh;
like($log, qr/^smtp-tls: info: .* tls=TLSv1\.[23] /m, 'a session in TLS logged');
like($log, qr/^smtp-tls: info: .* tls=none /m, 'sessions in clear logged');
# what reached the log of each hostile string (the programs' own escaping)
for my $k (qw(img script svg)) {
  ok(index($log, $hostile{$k}) >= 0, "the log holds $hostile{$k} (a recipient refused)") or diag $log;
}

# the text report and the page
my ($rc, $text, $err) = run_cmd(argv => [$bin, $file], env => { TZ => 'UTC' });
is($rc, 0, 'the text report') or diag $err;
($rc, my $html, $err) = run_cmd(argv => [$bin, '-H', $file], env => { TZ => 'UTC' });
is($rc, 0, 'mxguard-report -H') or diag $err;
open $fh, '>', "$dir/report.html" or die; print {$fh} $html; close $fh;

ok(utf8::decode(my $copy = $html), 'the page is UTF-8');
unlike($html, qr/[\x00-\x09\x0b-\x1f\x7f]/, '... without a control character but LF');

# the page refers to nothing: no URL, no src= or href= in any tag, no url() in its style
unlike($html, qr/https?:/i, 'no http: or https: in the page');
my @filetags = $html =~ /(<[a-zA-Z](?:[^>"]|"[^"]*")*>)/g;
ok(!(grep { /\s(?:src|href|xlink:href)=/i } @filetags), 'no src= or href= in a tag') or diag join "\n", grep { /\s(?:src|href)=/i } @filetags;
unlike($html, qr/url\(|\@import/i, 'no url() or @import in the style');
my $svgs = () = $html =~ /<svg\b/g;
is($svgs, 4, 'four charts: refusals per day by reason, TLS share, top clients, top senders');

# headless Chromium: the DOM it built
my $t0 = time;
($rc, my $dom, $err) = run_cmd(argv => [$chromium, '--headless', '--disable-gpu', '--no-sandbox', '--no-first-run',
  "--user-data-dir=$dir/chromium", '--dump-dom', "file://$dir/report.html"], timeout => 90, env => { HOME => $dir });
is($rc, 0, 'chromium --dump-dom') or diag $err;
note sprintf 'chromium took %d s', time - $t0;
like($dom, qr/<\/html>\s*\z/, 'a whole DOM');

sub decode {
  my ($s) = @_;
  $s =~ s/&lt;/</g; $s =~ s/&gt;/>/g; $s =~ s/&quot;/"/g; $s =~ s/&#39;/'/g; $s =~ s/&nbsp;/\xa0/g; $s =~ s/&amp;/&/g;
  return $s;
}

# every element and attribute of the DOM (values in double quotes, text escaped)
my %tags = map { $_ => 1 } qw(html head meta title style body h1 h2 p section table caption thead tbody tr th td code svg g rect text line);
my %attrs = map { $_ => 1 } qw(class lang charset name content scope colspan role aria-label width height viewbox x y x1 y1 x2 y2 fill stroke
  font-size font-weight text-anchor transform);
my (%seen, %seenattr, @onattr);
while ($dom =~ /<([a-zA-Z][^\s\/>]*)((?:\s+[^\s=\/>]+(?:="[^"]*")?)*)\s*\/?>/g) {
  my ($tag, $a) = (lc $1, $2);
  $seen{$tag}++;
  while ($a =~ /\s+([^\s=\/>]+)(?:="[^"]*")?/g) { $seenattr{lc $1}++; push @onattr, "$tag $1" if $1 =~ /^on/i }
}
ok(!$seen{script}, 'no <script> element');
ok(!$seen{img}, 'no <img> element');
ok(!@onattr, 'no element carries an on* attribute') or diag "@onattr";
is_deeply([grep { !$tags{$_} } sort keys %seen], [], 'every element is one the writer writes');
is_deeply([grep { !$attrs{$_} } sort keys %seenattr], [], 'every attribute is one the writer writes');
is($seen{svg}, 4, 'the DOM holds the four charts and no other <svg>');

# the text of the DOM, tags out
my $domtext = decode($dom =~ s/<(?:[^>"]|"[^"]*")*>//gr);
for my $k (sort keys %hostile) {
  ok(index($domtext, $hostile{$k}) >= 0, "$hostile{$k} is text on the page") or diag $domtext;
}

# the tables by caption: { row head => [cells] }
sub table_of {
  my ($caption) = @_;
  my ($body) = $dom =~ /<caption>\Q$caption\E<\/caption>(.*?)<\/table>/s or return;
  my %rows;
  while ($body =~ /<tr><th scope="row">(.*?)<\/th>(.*?)<\/tr>/gs) {
    my ($k, $cells) = (decode($1), $2);
    $rows{$k} = [map { decode($_) } $cells =~ /<td(?: class="key")?>(.*?)<\/td>/g];
  }
  return \%rows;
}
# the text report's sections (t/lib/MXReport.pm), every row as a list
sub section {
  my $rows = report_section($text, $_[0]) or return;
  return { map { ($_ => ref $rows->{$_} ? $rows->{$_} : [$rows->{$_}]) } keys %$rows };
}

for my $c (['Totals per day', 'TOTALS PER DAY'], ['Refusals by reason', 'REFUSALS BY REASON'],
           ['Client addresses refused', 'CLIENT ADDRESSES REFUSED'], ['Recipients refused', 'RECIPIENTS REFUSED'],
           ['Sessions per program', 'SESSIONS PER PROGRAM']) {
  my ($caption, $title) = @$c;
  my ($page, $want) = (table_of($caption), section($title));
  ok($page && %$page, "the table \"$caption\"") or next;
  is_deeply($page, $want, "... its counts are the text report's") or diag explain $page, $want;
}
like($domtext, qr/\Qcurrent <img src=x onerror=alert(5)>\x1B\xFF\E/, 'the file name is text, its control character and its byte not UTF-8 as escapes');
my $rcpts = table_of('Recipients refused');
for my $k (qw(img script svg)) {
  ok((grep { index($_, $hostile{$k}) >= 0 } keys %$rcpts), "the refused recipient holding $hostile{$k} is a row");
}
my $tls = table_of('TLS sessions per day (smtp-tls)');
my ($day) = grep { $_ ne 'all' } keys %$tls;
is_deeply($tls->{all}, [1, 4, 0, '20.0%'], 'TLS: one session in TLS, four in clear, 20.0%') or diag explain $tls;
like($text, qr/^  all +1 +4 +0 +20\.0%$/m, '... as the text report says');
for my $caption ('Refusals per day by reason', 'Senders refused (rcptchecks)', 'Greylisting per day (rcptchecks)',
                 'Screening per day (smtp-screen: refused by pregreet, dnsbl, rules)', 'Senders refused per day (rcptchecks)',
                 'Sender domains refused per day (rcptchecks)', 'SPF results per day (rcptchecks -E spf)',
                 'Decisions by program and result', 'Other messages of the programs', 'Skipped lines') {
  like($dom, qr/<caption>\Q$caption\E<\/caption>/, "the table \"$caption\"");
}
my $byreason = table_of('Refusals per day by reason');
is($byreason->{$day}[-1], section('TOTALS PER DAY')->{$day}[0], 'refusals per day by reason: the day\'s sum is its refusals');

# the charts: a title each, and their bars
my %bars;
for my $t ('Refusals per day by reason', 'TLS share per day', 'Top refused clients', 'Top refused senders') {
  my ($svg) = $dom =~ /(<svg role="img" aria-label="\Q$t\E".*?<\/svg>)/s;
  ok($svg, "the chart \"$t\"") or next;
  like($svg, qr/<title>\Q$t\E<\/title>/, '... with its title');
  # a bar: a rect with its count in a title (a stacked segment), or a
  # group with its count in a label (a horizontal bar); legend keys have neither
  my $bars = () = $svg =~ /<rect [^>]*><title>[^<]*: \d+<\/title><\/rect>|<g aria-label="[^"]*: \d+"><title>/g;
  ok($bars >= 1, "... and its bars ($bars)");
  $bars{$t} = $bars;
}
# as many segments as the table has counts other than 0
my $cells = sub { my ($t, $cols) = @_; scalar grep { $_ } map { @{ $t->{$_} }[0 .. $cols - 1] } grep { $_ ne 'all' } keys %$t };
is($bars{'Refusals per day by reason'}, $cells->($byreason, scalar(@{ $byreason->{$day} }) - 1), 'a segment for each day and reason refused');
is($bars{'TLS share per day'}, $cells->($tls, 3), 'a segment for each day\'s sessions in TLS, in clear, failed');
my ($senders) = $dom =~ /(<svg role="img" aria-label="Top refused senders".*?<\/svg>)/s;
like($senders // '', qr/<g aria-label="&lt;&quot;onmouseover=alert\(4\)&quot;\@evil\.test&gt;: 1">/, 'a sender with quotes stays inside its attribute value');
my ($clients) = $dom =~ /(<svg role="img" aria-label="Top refused clients".*?<\/svg>)/s;
is((() = ($clients // '') =~ /<g aria-label=/g), scalar(keys %{ table_of('Client addresses refused') }), 'a bar per refused client');

done_testing;

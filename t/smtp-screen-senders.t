#!/usr/bin/perl
# Real sending MTAs through smtp-screen: Postfix's SMTP client and
# exim's, each relaying one message to smtp-screen (-H -w 1) in front of
# rcptchecks and exim4 -bs. Each is delivered, the sender logs it sent,
# and the greeting the sender read was one reply: smtp-screen's teaser
# line "220-" then the server's own "220 " line (Postfix's and exim's
# debug output of the conversation).
use strict;
use warnings;
use Test::More;
use lib 't/lib';
use MXTest;
use MXRun;
use MXSenders;
use MXScreen;

my $top = top();
my $ss = "$top/smtp-screen/smtp-screen";
plan skip_all => "$ss not built" unless -x $ss;

my $mta = exim_child();
my $cdb = make_cdb(recipients => "example.org\nalice\@example.org\n");
my @rcpt = ("$top/rcptchecks/rcptchecks", '-c', $cdb, '-d', '0', '-u', '0', '-t', '30');
my $s = start_screen(opts => ['-H', '-w', '1', '-l', 'mx.example.org'], argv => [@rcpt, @{ $mta->argv }]);
my $ip = $s->ip;

my $n = 0;
sub message {
  my ($from, $subject) = @_;
  my $id = sprintf 's%d.%d', $$, ++$n;
  return ($id, "From: <$from>\nTo: <alice\@example.org>\nSubject: $subject\nDate: Mon, 7 Dec 2026 01:00:00 +0000\n"
    . "Message-ID: <$id\@client.mxtest.test>\n\nthrough smtp-screen\n");
}
# the screen's line for a client that passed, handed to a child
sub passed { scalar grep { /^smtp-screen: info: pid \d+ ip \S+ .* pregreet=pass .* result=pass child=\d+$/ } split /\n/, $s->log_text }

# --- Postfix: its verbose log for this peer (debug_peer_list) has each
# reply line it read, "< [ip]:port: line"
{
  my $pf = postfix_sender(host => $ip, port => $s->port, main => "debug_peer_list = $ip\n");
  my ($id, $text) = message('pf@other.test', 'from Postfix');
  my ($rc, $out) = $pf->sendmail('pf@other.test', ['alice@example.org'], $text);
  is($rc, 0, 'Postfix takes the message') or diag $out;
  my ($st) = $pf->wait_delivered(1, 40);
  like($st->{said} // '', qr/\b250\b/, "Postfix: status=sent, the server's 250 in its log");
  ok(defined delivered($mta, $id), 'Postfix: the message is in the Maildir') or diag $pf->maillog;
  my @greet = $pf->maillog =~ /^.* < \S+: (220[ -].*)$/mg;
  is($greet[0] // '', '220-mx.example.org', 'Postfix read the teaser first') or diag $pf->maillog;
  like($greet[1] // '', qr/^220 mx\.example\.org ESMTP Exim /, "Postfix: then exim's 220 ended the greeting");
  is(scalar @greet, 2, 'Postfix: one greeting of two lines, no second 220');
  unlike($pf->maillog, qr/status=(?:deferred|bounced)/, 'Postfix: nothing deferred or bounced');
  $pf->stop;
}
is(passed(), 1, 'smtp-screen logged the Postfix client as passed and handed off');

# --- exim: its transport debug output (-d+transport) has "SMTP<<" then
# the reply, one line each
{
  my $ex = exim_sender(host => $ip, port => $s->port);
  my ($id, $text) = message('ex@other.test', 'from exim');
  my ($rc, $out) = $ex->sendmail('ex@other.test', ['alice@example.org'], $text, '-d+transport');
  is($rc, 0, 'exim takes the message') or diag $out;
  my ($st) = $ex->wait_delivered(1, 40);
  like($st->{said} // '', qr/^250 /, "exim: => logged with the server's 250");
  ok(defined delivered($mta, $id), 'exim: the message is in the Maildir') or diag $ex->mainlog;
  # the reply lines from the first "SMTP<<" to exim's EHLO; exim reads
  # the teaser and the server's line in two reads ("read response data")
  my ($block) = $out =~ /^(\s*SMTP<< 220.*?)^\s*SMTP>> /ms;
  my @greet = map { /^\s*(?:SMTP<< )?(\d{3}[ -].*)$/ ? $1 : () } split /\n/, $block // '';
  is($greet[0] // '', '220-mx.example.org', 'exim read the teaser first') or diag $out;
  like($greet[1] // '', qr/^220 mx\.example\.org ESMTP Exim /, "exim: then exim's 220 ended the greeting");
  is(scalar @greet, 2, 'exim: one greeting of two lines');
  unlike($out, qr/SMTP<< 220[ -](?s:.*)SMTP<< 220[ -]/, 'exim: no second greeting read');
  is($ex->paniclog // '', '', "the sending exim's panic log is empty");
}
is(passed(), 2, 'smtp-screen logged the exim client as passed and handed off');
$s->stop;
done_testing;

/* html: mxguard-report -H, the report as one self-contained HTML5 page.
 *
 * html_page() writes, through put, the tables of the text report (each a
 * <table> with a <caption> and <th> headers) and inline SVG charts of
 * what rpt (collect.h) holds: refusals per day by reason, TLS sessions
 * per day, smtp-screen's and greylisting's outcomes per day (where there
 * are any), the clients and senders refused most. Each chart's numbers
 * are in a table too. No script, no style sheet, font or image from
 * elsewhere: the page fetches nothing.
 *
 * Every byte that did not come from this program (log lines, file
 * names) goes through html_text(), which escapes & < > " ' and writes
 * control characters, bytes that are not UTF-8 and the Unicode
 * direction overrides as visible escapes (\xHH, \uHHHH): what put
 * receives is UTF-8, and its markup is the writer's own, from a fixed
 * set of elements and attributes.
 */
#ifndef MXGUARD_REPORT_HTML_H
#define MXGUARD_REPORT_HTML_H

#include <stddef.h>
#include <stdint.h>

typedef void html_put_fn (char const *, size_t) ;

/* s (n bytes) as text or as a double-quoted attribute value */
extern void html_text (html_put_fn *put, char const *s, size_t n) ;
extern void html_texts (html_put_fn *put, char const *s) ;
extern void html_num (html_put_fn *put, uint64_t u) ;

/* the page: top rows a table (0: all), max the key limit it was counted
   with, files the names read (none: standard input) */
extern void html_page (html_put_fn *put, size_t top, size_t max, char const *const *files, size_t nfiles) ;

#endif

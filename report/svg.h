/* svg: the page's charts (html.h), plain SVG elements at computed
 * coordinates. Labels are written through html_text(); the numbers of
 * every chart are in a table of the page as well.
 */
#ifndef MXGUARD_REPORT_SVG_H
#define MXGUARD_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>

#include "html.h"

typedef struct svg_label_s svg_label ;
struct svg_label_s { char const *s ; size_t len ; } ;

/* Stacked bars, one a column x (nx, labelled x[]), stacked by series
   (ns, named names[]); v[i * ns + k] is column i's count of series k.
   With share, every column is its own 100%. */
extern void svg_stacked (html_put_fn *put, char const *title, svg_label const *x, size_t nx,
  svg_label const *names, size_t ns, uint64_t const *v, int share) ;

/* Horizontal bars: n labels and their counts, longest first. */
extern void svg_hbars (html_put_fn *put, char const *title, svg_label const *labels, uint64_t const *v, size_t n) ;

#endif

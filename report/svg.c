/* svg: see svg.h. */
#include "svg.h"

#include <string.h>

#define TOP 28        /* room for the title */
#define PLOT_H 200    /* the stacked bars' height */
#define LEFT 60       /* the count axis */
#define BOTTOM 76     /* the days, at 45 degrees */
#define LEGEND_W 260
#define ROW 18        /* a horizontal bar's row */
#define LABEL_W 300
#define LABEL_CUT 44  /* bytes of a label in a chart; the table has it whole */
#define BAR_W 320

/* a palette told apart by most colour-blind readers (Tableau 10) */
static char const *const colour[] = { "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f", "#bab0ac", "#ff9da7" } ;
#define NCOLOURS (sizeof colour / sizeof *colour)

static void lit (html_put_fn *put, char const *s) { put(s, strlen(s)) ; }

/* a scaled length: v of max over span, rounded */
static uint64_t scale (uint64_t v, uint64_t max, unsigned int span)
{
  return max ? (uint64_t)((long double)v * span / max + 0.5L) : 0 ;
}

static void attr (html_put_fn *put, char const *name, uint64_t u)
{
  lit(put, " ") ; lit(put, name) ; lit(put, "=\"") ; html_num(put, u) ; lit(put, "\"") ;
}

static void open_svg (html_put_fn *put, char const *title, uint64_t w, uint64_t h)
{
  lit(put, "<svg role=\"img\" aria-label=\"") ; html_texts(put, title) ; lit(put, "\"") ;
  attr(put, "width", w) ; attr(put, "height", h) ;
  lit(put, " viewBox=\"0 0 ") ; html_num(put, w) ; lit(put, " ") ; html_num(put, h) ; lit(put, "\">\n<title>") ;
  html_texts(put, title) ;
  lit(put, "</title>\n<text x=\"4\" y=\"16\" font-size=\"13\" font-weight=\"bold\">") ;
  html_texts(put, title) ;
  lit(put, "</text>\n") ;
}

/* "LABEL: N" or "X, NAME: N" */
static void tip (html_put_fn *put, svg_label const *a, svg_label const *b, uint64_t n)
{
  html_text(put, a->s, a->len) ;
  if (b) { lit(put, ", ") ; html_text(put, b->s, b->len) ; }
  lit(put, ": ") ; html_num(put, n) ;
}

static void rect (html_put_fn *put, uint64_t x, uint64_t y, uint64_t w, uint64_t h, char const *fill)
{
  lit(put, "<rect") ; attr(put, "x", x) ; attr(put, "y", y) ; attr(put, "width", w) ; attr(put, "height", h) ;
  lit(put, " fill=\"") ; lit(put, fill) ; lit(put, "\">") ;
}

static void text_at (html_put_fn *put, uint64_t x, uint64_t y, char const *anchor)
{
  lit(put, "<text") ; attr(put, "x", x) ; attr(put, "y", y) ;
  lit(put, " font-size=\"11\" text-anchor=\"") ; lit(put, anchor) ; lit(put, "\">") ;
}

void svg_stacked (html_put_fn *put, char const *title, svg_label const *x, size_t nx,
  svg_label const *names, size_t ns, uint64_t const *v, int share)
{
  uint64_t max = 0, bw, w, h, legend_x, base = TOP + PLOT_H ;
  size_t i, k, every ;
  for (i = 0 ; i < nx ; i++)
  {
    uint64_t sum = 0 ;
    for (k = 0 ; k < ns ; k++) sum += v[i * ns + k] ;
    if (sum > max) max = sum ;
  }
  bw = nx ? 640 / nx : 40 ;
  if (bw > 40) bw = 40 ;
  if (bw < 6) bw = 6 ;
  every = nx / 40 + 1 ;   /* a day's label every so many bars */
  legend_x = LEFT + nx * bw + 24 ;
  w = legend_x + LEGEND_W ;
  h = base + BOTTOM ;
  if (h < TOP + ns * 16 + 8) h = TOP + ns * 16 + 8 ;
  open_svg(put, title, w, h) ;
  /* the count axis: 0 and the highest column */
  lit(put, "<line") ; attr(put, "x1", LEFT) ; attr(put, "y1", base) ; attr(put, "x2", LEFT + nx * bw) ; attr(put, "y2", base) ;
  lit(put, " stroke=\"#444\"></line>\n<line") ; attr(put, "x1", LEFT) ; attr(put, "y1", TOP) ; attr(put, "x2", LEFT + nx * bw) ; attr(put, "y2", TOP) ;
  lit(put, " stroke=\"#ccc\"></line>\n") ;
  text_at(put, LEFT - 4, base + 4, "end") ; lit(put, "0</text>\n") ;
  text_at(put, LEFT - 4, TOP + 4, "end") ;
  if (share) lit(put, "100%") ; else html_num(put, max) ;
  lit(put, "</text>\n") ;
  for (i = 0 ; i < nx ; i++)
  {
    uint64_t cum = 0, x0 = LEFT + i * bw + bw / 8 ;
    if (share)
      for (max = 0, k = 0 ; k < ns ; k++) max += v[i * ns + k] ;
    lit(put, "<g>") ;
    for (k = 0 ; k < ns ; k++)
    {
      uint64_t n = v[i * ns + k], y0, y1 ;
      if (!n) continue ;
      y1 = base - scale(cum, max, PLOT_H) ;
      cum += n ;
      y0 = base - scale(cum, max, PLOT_H) ;
      rect(put, x0, y0, bw - bw / 4, y1 - y0, colour[k % NCOLOURS]) ;
      lit(put, "<title>") ; tip(put, &x[i], &names[k], n) ; lit(put, "</title></rect>") ;
    }
    lit(put, "</g>\n") ;
    if (i % every) continue ;
    lit(put, "<text") ; attr(put, "x", x0 + bw / 2) ; attr(put, "y", base + 12) ;
    lit(put, " font-size=\"10\" text-anchor=\"end\" transform=\"rotate(-45 ") ;
    html_num(put, x0 + bw / 2) ; lit(put, " ") ; html_num(put, base + 12) ; lit(put, ")\">") ;
    html_text(put, x[i].s, x[i].len) ; lit(put, "</text>\n") ;
  }
  /* the legend */
  for (k = 0 ; k < ns ; k++)
  {
    uint64_t y = TOP + k * 16 ;
    rect(put, legend_x, y, 10, 10, colour[k % NCOLOURS]) ; lit(put, "</rect>") ;
    text_at(put, legend_x + 14, y + 9, "start") ;
    html_text(put, names[k].s, names[k].len) ; lit(put, "</text>\n") ;
  }
  lit(put, "</svg>\n") ;
}

void svg_hbars (html_put_fn *put, char const *title, svg_label const *labels, uint64_t const *v, size_t n)
{
  uint64_t max = 0 ;
  size_t i ;
  for (i = 0 ; i < n ; i++) if (v[i] > max) max = v[i] ;
  open_svg(put, title, LABEL_W + BAR_W + 90, TOP + n * ROW + 8) ;
  for (i = 0 ; i < n ; i++)
  {
    uint64_t y = TOP + i * ROW, bar = scale(v[i], max, BAR_W) ;
    size_t cut = labels[i].len > LABEL_CUT ? LABEL_CUT : labels[i].len ;
    if (!bar && v[i]) bar = 1 ;
    lit(put, "<g aria-label=\"") ; tip(put, &labels[i], 0, v[i]) ; lit(put, "\"><title>") ;
    tip(put, &labels[i], 0, v[i]) ; lit(put, "</title>") ;
    text_at(put, LABEL_W, y + 13, "end") ;
    html_text(put, labels[i].s, cut) ;
    if (cut < labels[i].len) lit(put, "\xe2\x80\xa6") ;   /* an ellipsis */
    lit(put, "</text>") ;
    rect(put, LABEL_W + 6, y + 3, bar, ROW - 6, colour[0]) ; lit(put, "</rect>") ;
    text_at(put, LABEL_W + 10 + bar, y + 13, "start") ; html_num(put, v[i]) ; lit(put, "</text></g>\n") ;
  }
  lit(put, "</svg>\n") ;
}

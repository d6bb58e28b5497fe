// C face of GSL for Swift. GSL's own headers bring gsl/gsl_cblas.h, whose ABI is
// OpenBLAS's; the module map links libopenblas instead of libgslcblas, so every
// cblas_* call below runs on OpenBLAS. Do not include OpenBLAS's <cblas.h> here:
// it redefines the same symbols.
#ifndef SPECLAB_CGSL_SHIM_H
#define SPECLAB_CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_matrix_float.h>
#include <gsl/gsl_vector_float.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>

// OpenBLAS controls (declared by hand; see the note above).
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

// Swift 6 rejects GSL's mutable C globals; these accessors return them.
static inline const gsl_rng_type *speclab_rng_mt19937(void) { return gsl_rng_mt19937; }
static inline const gsl_root_fsolver_type *speclab_root_brent(void) { return gsl_root_fsolver_brent; }
static inline const gsl_min_fminimizer_type *speclab_min_brent(void) { return gsl_min_fminimizer_brent; }
static inline const gsl_multifit_nlinear_type *speclab_nlinear_trust(void) { return gsl_multifit_nlinear_trust; }
static inline const gsl_multifit_nlinear_scale *speclab_nlinear_scale_more(void) { return gsl_multifit_nlinear_scale_more; }

#endif

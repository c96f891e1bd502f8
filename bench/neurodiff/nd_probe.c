/* Probe of NeuroDiff's own reading (outside the nnshrink project): prints the normalised input box and target
 * output NeuroDiff uses for PROPERTY, then both networks' outputs (NeuroDiff's forward_prop) at normalised points.
 * usage: nd_probe PROPERTY NNET1 NNET2 [x1,x2,x3,x4,x5 ...] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "split.h"
int main(int argc, char *argv[]) {
    if (argc < 4) { fprintf(stderr, "usage: nd_probe PROPERTY NNET1 NNET2 [points]\n"); return 2; }
    openblas_set_num_threads(1);
    int property = atoi(argv[1]);
    struct NNet *n1 = load_network(argv[2]), *n2 = load_network(argv[3]);
    int n = n1->inputSize, m = n1->outputSize;
    float u[n], l[n], ud[n], ld[n];
    struct VerificationParams params; memset(&params, 0, sizeof params);
    params.nnet = n1; params.nnetPrime = n2;
    struct InputSpace s = { { {l, 1, n}, {u, 1, n} }, { {ld, 1, n}, {ud, 1, n} }, 0 };
    load_inputs(property, n, &s, &params);
    normalize_input_interval(n1, &s.inputs);
    printf("target %d\nlo", params.target);
    for (int i = 0; i < n; i++) printf(" %.9g", l[i]);
    printf("\nhi");
    for (int i = 0; i < n; i++) printf(" %.9g", u[i]);
    printf("\n");
    for (int a = 4; a < argc; a++) {
        float x[n], o1[m], o2[m];
        char *p = argv[a];
        for (int i = 0; i < n; i++) { x[i] = strtof(p, &p); if (*p == ',') p++; }
        struct Matrix in = {x, 1, n}, out1 = {o1, m, 1}, out2 = {o2, m, 1};
        forward_prop(n1, &in, &out1);
        float y[n]; memcpy(y, x, sizeof y); struct Matrix in2 = {y, 1, n};
        forward_prop(n2, &in2, &out2);
        printf("point %s\nf", argv[a]);
        for (int j = 0; j < m; j++) printf(" %.9g", o1[j]);
        printf("\ng");
        for (int j = 0; j < m; j++) printf(" %.9g", o2[j]);
        printf("\n");
    }
    return 0;
}

package io.towerflow.explore;

import java.util.SplittableRandom;

/**
 * Draws click rates from Beta(clicks + 1, impressions - clicks + 1), the posterior of an item's
 * click rate under a uniform prior, for Thompson sampling. A Beta draw is X / (X + Y) with X, Y
 * Gamma draws (Marsaglia and Tsang, ACM TOMS 2000, for shape &ge; 1, which these always are).
 * The common cases have closed forms that take one uniform instead of two Gamma draws: an item
 * never clicked draws from Beta(1, b), whose CDF is 1 - (1 - x)^b, hence 1 - U^(1/b); an item
 * clicked every time it was shown from Beta(a, 1) = U^(1/a). The exploration pool is mostly
 * never-clicked items, and a draw per candidate per list was 15 % of the operator's thread at
 * saturation (docs/benchmarks.md).
 * Seeded: the same seed gives the same draws on every JVM.
 */
public final class ThompsonSampler {
    private final SplittableRandom random;

    public ThompsonSampler(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A draw of the click rate of an item shown {@code impressions} times and clicked {@code clicks}. */
    public double sample(long clicks, long impressions) {
        long c = Math.max(0, clicks);
        long misses = Math.max(0, impressions - c);
        if (c == 0) {
            // Beta(1, misses + 1); 1 - nextDouble() is in (0, 1], so the log is finite. exp, not
            // expm1: exp is a JIT intrinsic, and near 0 its rounding (~1e-16 absolute) is far
            // below what a sampled click rate needs
            return 1.0 - Math.exp(Math.log(1.0 - random.nextDouble()) / (misses + 1.0));
        }
        if (misses == 0) {
            return Math.exp(Math.log(1.0 - random.nextDouble()) / (c + 1.0)); // Beta(c + 1, 1)
        }
        double x = gamma(c + 1.0);
        double y = gamma(misses + 1.0);
        return x / (x + y);
    }

    /** Gamma(shape, 1) for shape &ge; 1 (Marsaglia-Tsang squeeze). */
    double gamma(double shape) {
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9.0 * d);
        while (true) {
            double x;
            double v;
            do {
                x = gaussian();
                v = 1.0 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            double x2 = x * x;
            if (u < 1.0 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1.0 - v + Math.log(v))) {
                return d * v;
            }
        }
    }

    /** A standard normal draw (Marsaglia's polar method; the spare is dropped to keep no state). */
    private double gaussian() {
        while (true) {
            double a = 2 * random.nextDouble() - 1;
            double b = 2 * random.nextDouble() - 1;
            double s = a * a + b * b;
            if (s > 0 && s < 1) {
                return a * Math.sqrt(-2 * Math.log(s) / s);
            }
        }
    }
}

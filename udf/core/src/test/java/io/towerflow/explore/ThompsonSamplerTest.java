package io.towerflow.explore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ThompsonSamplerTest {

    @Test
    void theSameSeedDrawsTheSameSequenceAndAnotherSeedDoesNot() {
        ThompsonSampler a = new ThompsonSampler(7);
        ThompsonSampler b = new ThompsonSampler(7);
        ThompsonSampler c = new ThompsonSampler(8);
        double[] da = new double[100];
        double[] dc = new double[100];
        for (int i = 0; i < 100; i++) {
            da[i] = a.sample(i % 5, 20);
            assertThat(b.sample(i % 5, 20)).isEqualTo(da[i]);
            dc[i] = c.sample(i % 5, 20);
        }
        assertThat(dc).isNotEqualTo(da);
    }

    @Test
    void drawsFollowTheBetaPosteriorOfClicksAndImpressions() {
        ThompsonSampler s = new ThompsonSampler(42);
        // Beta(3, 9): mean 0.25, variance 3*9 / (12^2 * 13) = 0.01442
        int n = 40_000;
        double[] m = moments(s, 2, 10, n);
        assertThat(m[0]).isCloseTo(0.25, within(0.004));
        assertThat(m[1]).isCloseTo(0.01442, within(0.0008));
        // Beta(1, 1) (never shown) is uniform: mean 1/2, variance 1/12
        m = moments(s, 0, 0, n);
        assertThat(m[0]).isCloseTo(0.5, within(0.006));
        assertThat(m[1]).isCloseTo(1.0 / 12, within(0.002));
    }

    @Test
    void theClosedFormsOfNeverAndAlwaysClickedItemsFollowTheirPosteriors() {
        ThompsonSampler s = new ThompsonSampler(3);
        int n = 40_000;
        // never clicked in 19 impressions: Beta(1, 20), mean 1/21, variance 20 / (21^2 * 22)
        double[] m = moments(s, 0, 19, n);
        assertThat(m[0]).isCloseTo(1.0 / 21, within(0.0015));
        assertThat(m[1]).isCloseTo(20.0 / (21 * 21 * 22), within(0.0003));
        // clicked in all of 5 impressions: Beta(6, 1), mean 6/7, variance 6 / (7^2 * 8)
        m = moments(s, 5, 5, n);
        assertThat(m[0]).isCloseTo(6.0 / 7, within(0.003));
        assertThat(m[1]).isCloseTo(6.0 / (7 * 7 * 8), within(0.001));
        // and the general path beside them: Beta(2, 19), mean 2/21
        m = moments(s, 1, 19, n);
        assertThat(m[0]).isCloseTo(2.0 / 21, within(0.002));
        assertThat(m[1]).isCloseTo(2.0 * 19 / (21 * 21 * 22), within(0.0004));
    }

    private static double[] moments(ThompsonSampler s, long clicks, long impressions, int n) {
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            double x = s.sample(clicks, impressions);
            assertThat(x).isBetween(0.0, 1.0);
            sum += x;
            sq += x * x;
        }
        double mean = sum / n;
        return new double[] {mean, sq / n - mean * mean};
    }

    @Test
    void anItemThatIsClickedWinsMoreDrawsThanOneThatIsNot() {
        ThompsonSampler s = new ThompsonSampler(1);
        int wins = 0;
        for (int i = 0; i < 10_000; i++) {
            if (s.sample(10, 50) > s.sample(1, 50)) {
                wins++;
            }
        }
        // P(Beta(11, 41) > Beta(2, 50)) is about 0.999
        assertThat(wins).isGreaterThan(9_900);
    }
}

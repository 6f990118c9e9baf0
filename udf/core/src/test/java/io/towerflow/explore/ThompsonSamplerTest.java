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
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < n; i++) {
            double x = s.sample(2, 10);
            assertThat(x).isBetween(0.0, 1.0);
            sum += x;
            sq += x * x;
        }
        double mean = sum / n;
        assertThat(mean).isCloseTo(0.25, within(0.004));
        assertThat(sq / n - mean * mean).isCloseTo(0.01442, within(0.0008));
        // Beta(1, 1) (never shown) is uniform: mean 1/2, variance 1/12
        sum = 0;
        sq = 0;
        for (int i = 0; i < n; i++) {
            double x = s.sample(0, 0);
            sum += x;
            sq += x * x;
        }
        mean = sum / n;
        assertThat(mean).isCloseTo(0.5, within(0.006));
        assertThat(sq / n - mean * mean).isCloseTo(1.0 / 12, within(0.002));
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

package io.towerflow.devkit.eval;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The evaluation's PNG plots (XChart, headless). */
public final class Plots {
    private static final int WIDTH = 800;
    private static final int HEIGHT = 500;

    private Plots() {}

    /** Training loss (mean over each progress window) against the step. */
    public static void lossCurve(String title, List<double[]> stepAndLoss, Path png) throws IOException {
        XYChart chart = chart(title, "training step", "in-batch softmax loss");
        chart.getStyler().setLegendVisible(false);
        double[] x = new double[stepAndLoss.size()];
        double[] y = new double[stepAndLoss.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = stepAndLoss.get(i)[0];
            y[i] = stepAndLoss.get(i)[1];
        }
        chart.addSeries("loss", x, y).setMarker(SeriesMarkers.NONE);
        save(chart, png);
    }

    /** One series over time (the soak run: a value per minute). */
    public static void timeSeries(String title, String xTitle, String yTitle, double[] x, double[] y, Path png) throws IOException {
        XYChart chart = chart(title, xTitle, yTitle);
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setYAxisMin(0.0);
        chart.addSeries(yTitle, x, y);
        save(chart, png);
    }

    /** HR@K for K = 1 .. n, one line per method (curves[method][K - 1]). */
    public static void hitRateByK(String title, Map<String, double[]> curves, Path png) throws IOException {
        XYChart chart = chart(title, "K (list length)", "HR@K");
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setYAxisMin(0.0);
        for (Map.Entry<String, double[]> e : curves.entrySet()) {
            double[] y = e.getValue();
            double[] x = new double[y.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = i + 1;
            }
            chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.NONE);
        }
        save(chart, png);
    }

    /**
     * Users per second against catalogue size, log-log, one line per method ({@code series}:
     * method → {items, users/s} points in order); the bench's plot.
     */
    public static void usersPerSecondByCatalogue(String title, Map<String, double[][]> series, Path png)
            throws IOException {
        XYChart chart = chart(title, "catalogue size (items)", "users / s");
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        addSeries(chart, series, 0, 1, 0);
        save(chart, png);
    }

    /**
     * Latency CDFs, one line per run ({@code series}: name → {quantile, ms} points in order),
     * latency on a log axis; the bench's half-load plot.
     */
    public static void latencyCdf(String title, Map<String, double[][]> series, Path png) throws IOException {
        XYChart chart = chart(title, "event -> list latency (ms)", "share of lists at or below");
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        addSeries(chart, series, 1, 0, 1); // a log axis has no 0 ms
        save(chart, png);
    }

    /** One line per entry of {@code series}: x and y from those columns of its points, x at least {@code xMin}. */
    private static void addSeries(XYChart chart, Map<String, double[][]> series, int xColumn, int yColumn, double xMin) {
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            double[] x = new double[e.getValue().length];
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = Math.max(xMin, e.getValue()[i][xColumn]);
                y[i] = e.getValue()[i][yColumn];
            }
            chart.addSeries(e.getKey(), x, y);
        }
    }

    private static XYChart chart(String title, String xTitle, String yTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setPlotGridLinesVisible(true);
        return chart;
    }

    private static void save(XYChart chart, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path dir = png.toAbsolutePath().getParent();
        if (dir != null) {
            Files.createDirectories(dir);
        }
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}

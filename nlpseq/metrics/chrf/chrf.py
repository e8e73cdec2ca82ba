"""chrF (Popović, 2015) computed by sacreBLEU: character n-gram F-score (0..100)."""

import datasets
import evaluate
import sacrebleu


class Chrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="sacreBLEU chrF (character 6-grams, beta=2).",
            citation="Popović, 2015. chrF: character n-gram F-score for automatic MT evaluation.",
            inputs_description="predictions: list of str; references: list of str (one reference each)",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references):
        return {"chrf": sacrebleu.corpus_chrf(predictions, [references]).score}

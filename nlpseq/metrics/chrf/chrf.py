"""chrF (Popović, 2015) computed by sacreBLEU: character n-gram F-score (0..100).

``references`` holds one string per prediction, or a list of strings per prediction (several references, the
same number for each; chrF scores each sentence against its best-matching reference).
"""

import evaluate
import sacrebleu

from nlpseq.metrics.references import FEATURES, reference_streams


class Chrf(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="sacreBLEU chrF (character 6-grams, beta=2).",
            citation="Popović, 2015. chrF: character n-gram F-score for automatic MT evaluation.",
            inputs_description="predictions: list of str; references: list of str, or list of lists of str (the "
                               "same number of references for every prediction)",
            features=FEATURES,
        )

    def _compute(self, predictions, references):
        return {"chrf": sacrebleu.corpus_chrf(predictions, reference_streams(references)).score}

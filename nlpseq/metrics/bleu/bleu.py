"""Corpus BLEU computed by sacreBLEU (Post, 2018): the standard, comparable BLEU score (0..100).

``references`` holds one string per prediction, or a list of strings per prediction (several references; every
prediction needs the same number, as sacreBLEU reads them as parallel reference streams).
"""

import evaluate
import sacrebleu

from nlpseq.metrics.references import FEATURES, reference_streams


class Bleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="sacreBLEU corpus BLEU with its default 13a tokenization.",
            citation="Post, 2018. A Call for Clarity in Reporting BLEU Scores.",
            inputs_description="predictions: list of str; references: list of str, or list of lists of str (the "
                               "same number of references for every prediction)",
            features=FEATURES,
        )

    def _compute(self, predictions, references, tokenize="13a"):
        result = sacrebleu.corpus_bleu(predictions, reference_streams(references), tokenize=tokenize)
        return {"bleu": result.score, "bleu_brevity_penalty": result.bp}

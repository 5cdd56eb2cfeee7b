"""The tqcheck reviewer UI: ``streamlit run app.py`` (or ``tqcheck review``, which finds it installed).

The pages live in ``tqcheck/ui``; the store comes from ``--db`` after ``--`` or ``$TQCHECK_DB``:

    TQCHECK_DB=review.sqlite streamlit run app.py
"""

from tqcheck.ui.app import main

main()

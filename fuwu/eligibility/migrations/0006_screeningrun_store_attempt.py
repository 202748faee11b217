# A run's rows are stored in short transactions; only its latest storing attempt may write them.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('eligibility', '0005_candidate_run_index_from_the_constraint'),
    ]

    operations = [
        migrations.AddField(
            model_name='screeningrun',
            name='store_attempt',
            field=models.PositiveIntegerField(default=0, help_text='Attempts at storing its rows; only the latest may write them.'),
        ),
    ]

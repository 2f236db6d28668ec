def test_the_short_apache_notice_that_projects_ship_is_recognised_as_apache_2_0():
    from app.licences.texts import identify_text

    notice = b"""Copyright 2025 Some Start-up SAS

   Licensed under the Apache License, Version 2.0 (the "License");
   you may not use this file except in compliance with the License.
   You may obtain a copy of the License at http://www.apache.org/licenses/LICENSE-2.0
   Unless required by applicable law or agreed to in writing, software distributed under the License is
   distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
   See the License for the specific language governing permissions and limitations under the License."""
    assert identify_text(notice).licence == "apache-2.0"

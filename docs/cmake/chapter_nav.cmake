# Copies one walkthrough chapter (docs/stepNN.md) for Doxygen and adds its navigation: a bar
# under the title and one at the end, each with Previous / Next links and a link up to the list of
# chapters. The reading order is the list of steps in docs/CMakeLists.txt; the site test checks the
# links against the order of the navigation tree.
#   cmake -DINPUT=<stepNN.md> -DOUTPUT=<file> -DPREV=<label> -DNEXT=<label> -DUP=<label>
#         -DPOSITION=<n> -DCOUNT=<total> -P chapter_nav.cmake
file(READ ${INPUT} text)
string(FIND "${text}" "\n" title_end)
if(title_end LESS 0 OR NOT text MATCHES "^# [^\n]*\\{#[A-Za-z0-9_]+\\}")
  message(FATAL_ERROR "${INPUT}: the first line must be the chapter title '# ... {#label}'")
endif()
string(SUBSTRING "${text}" 0 ${title_end} title)
string(SUBSTRING "${text}" ${title_end} -1 body)
set(top "<div class=\"chapter-nav chapter-nav-top\"><span class=\"chapter-nav-prev\">\\ref ${PREV} \"Previous\"</span> <span class=\"chapter-nav-up\">\\ref ${UP} \"Walkthrough\", step ${POSITION} of ${COUNT}</span> <span class=\"chapter-nav-next\">\\ref ${NEXT} \"Next\"</span></div>\n")
set(bottom "\n<div class=\"chapter-nav chapter-nav-bottom\">\n<div class=\"chapter-nav-prev\">Previous<br/>\\ref ${PREV}</div>\n<div class=\"chapter-nav-up\">\\ref ${UP} \"All chapters\"</div>\n<div class=\"chapter-nav-next\">Next<br/>\\ref ${NEXT}</div>\n</div>\n")
file(WRITE ${OUTPUT} "${title}\n\n${top}${body}${bottom}")
